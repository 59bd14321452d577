"""Django's migrate, refusing a database stopped partway through the migrations squashed away.

credentials/migrations/0001_squashed_0015_user_language replaces 0001_initial … 0015_user_language,
and those fifteen files are gone. A database with all of them applied, or none, migrates as
before. One with only some would leave Django without a path from where it stands (it fails deep
in its state rendering, naming `admin.LogEntry.user`), so it is refused here, first, with what to
do: bring it to 0015 with the release that still has those files.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError
from django.core.management.commands import migrate
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

SQUASHED = ("credentials", "0001_squashed_0015_user_language")
# The last commit of main whose credentials/migrations/ still holds the fifteen.
LAST_RELEASE_WITH_THEM = "1a9ad6e"


def stopped_partway(connection: Any) -> list[str]:
    """The squashed-away migrations this database has, when it has some but not all of them."""
    replaced = MigrationLoader(None, ignore_no_migrations=True).disk_migrations[SQUASHED].replaces
    applied = MigrationRecorder(connection).applied_migrations()
    have = [name for app, name in replaced if (app, name) in applied]
    return have if 0 < len(have) < len(replaced) else []


class Command(migrate.Command):
    def handle(self, *args: Any, **options: Any) -> None:
        have = stopped_partway(connections[options["database"]])
        if have:
            raise CommandError(
                f"This database stopped at credentials {have[-1]}, partway through the migrations "
                f"that {SQUASHED[1]} now replaces, and no longer exist. Bring it to "
                f"0015_user_language first with the release that has them (git checkout "
                f"{LAST_RELEASE_WITH_THEM}; python manage.py migrate), then migrate with this one. "
                "See docs/DECISIONS.md, 'Migrations squashed'."
            )
        super().handle(*args, **options)
