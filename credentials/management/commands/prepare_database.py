from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from credentials.security import db_roles

# The database alias of the owner role, when DATABASE_OWNER_URL names one.
OWNER = "owner"

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
        # The owner role migrates (DATABASE_OWNER_URL); the console serves as the runtime role
        # (DATABASE_URL), granted here what serving needs (credentials/security/db_roles.py).
        alias = OWNER if OWNER in settings.DATABASES else DEFAULT_DB_ALIAS
        owner = connections[alias]
        runtime_role = settings.DATABASES[DEFAULT_DB_ALIAS].get("USER", "")
        separate = alias == OWNER and runtime_role != owner.settings_dict.get("USER", "")
        self._wait_for(owner, wait)
        postgres = owner.vendor == "postgresql"
        if postgres:
            with owner.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK])
        try:
            if postgres and separate:
                db_roles.default_privileges_first(owner, runtime_role)
            call_command("migrate", database=alias, interactive=False, verbosity=1)
            if postgres and separate:
                db_roles.grant_runtime(owner, runtime_role)
                left = db_roles.temporary_privilege_left(owner, runtime_role)
                if left:
                    raise CommandError(left)
            call_command("bootstrap")
            call_command("create_registry_token_keys")
        finally:
            if postgres:
                with owner.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK])

    def _wait_for(self, owner: BaseDatabaseWrapper, wait: float) -> None:
        deadline = time.monotonic() + wait
        while True:
            try:
                owner.ensure_connection()
                return
            except OperationalError as exc:
                if time.monotonic() > deadline:
                    raise CommandError(
                        f"The database did not answer within {wait:g} s: {exc}"
                    ) from exc
                self.stdout.write("Waiting for the database…")
                owner.close()
                time.sleep(1)  # retry interval while a database container starts
