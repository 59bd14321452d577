from __future__ import annotations

import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError, connection

# Any constant works: every replica must use the same one.
MIGRATION_LOCK = 7_201_911


class Command(BaseCommand):
    help = (
        "Wait for the database, then migrate, bootstrap and create the token keys, holding a "
        "PostgreSQL advisory lock so replicas starting together take turns."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--wait", type=float, default=60, help="Seconds to wait for the database."
        )

    def handle(self, *args: Any, wait: float, **options: Any) -> None:
        deadline = time.monotonic() + wait
        while True:
            try:
                connection.ensure_connection()
                break
            except OperationalError as exc:
                if time.monotonic() > deadline:
                    raise CommandError(
                        f"The database did not answer within {wait:g} s: {exc}"
                    ) from exc
                self.stdout.write("Waiting for the database…")
                connection.close()
                time.sleep(1)  # retry interval while a database container starts
        postgres = connection.vendor == "postgresql"
        if postgres:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK])
        try:
            call_command("migrate", interactive=False, verbosity=1)
            call_command("bootstrap")
            call_command("create_registry_token_keys")
        finally:
            if postgres:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK])
