"""`manage.py compile_catalogs`: the translation catalogs compiled in pure Python
(swrconsole/translations.py), for the Dockerfile and the test suite."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from swrconsole import translations


class Command(BaseCommand):
    help = "Compile the translation catalogs (.po to .mo), in pure Python."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--force", action="store_true", help="Compile even if up to date.")

    def handle(self, *args: Any, force: bool = False, **options: Any) -> None:
        try:
            compiled = translations.compile_all(force=force)
        except FileNotFoundError as exc:
            raise CommandError(str(exc)) from exc
        for po in compiled:
            self.stdout.write(f"compiled {po.relative_to(settings.BASE_DIR)}")
