"""Django's migrate, refusing a database stopped partway through the migrations squashed away.

credentials/migrations/0001_squashed_0015_user_language replaces 0001_initial … 0015_user_language,
and those fifteen files are gone. A database with all of them applied, or none, migrates as
before. One with only some would leave Django without a path from where it stands (it fails deep
in its state rendering, naming `admin.LogEntry.user`), so it is refused here, first, with what to
do: bring it to 0015 with the release that still has those files.

After migrating it says whether active users hold no permission (permissions are enforced since
migration 0006) and how to grant them some: manage.py grant_permissions.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError
from django.core.management.commands import migrate
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import Exists, OuterRef, Q

from credentials.models import Permission, Registry, User
from credentials.rules import REGISTRY_ADMINISTRATORS

SQUASHED = ("credentials", "0001_squashed_0015_user_language")
# The last commit of main whose credentials/migrations/ still holds the fifteen.
LAST_RELEASE_WITH_THEM = "1a9ad6e"


def stopped_partway(connection: Any) -> list[str]:
    """The squashed-away migrations this database has, when it has some but not all of them."""
    replaced = MigrationLoader(None, ignore_no_migrations=True).disk_migrations[SQUASHED].replaces
    applied = MigrationRecorder(connection).applied_migrations()
    have = [name for app, name in replaced if (app, name) in applied]
    return have if 0 < len(have) < len(replaced) else []


def without_permission(database: str) -> int:
    """How many active users hold no permission anywhere (their own or a group's) and are no
    registry administrators; 0 while the permissions table does not exist yet."""
    if Permission._meta.db_table not in connections[database].introspection.table_names():
        return 0
    holds = Permission.objects.using(database).filter(
        Q(user=OuterRef("pk")) | Q(group__user=OuterRef("pk"))
    )
    return (
        User.objects.using(database)
        .filter(is_active=True, is_superuser=False)
        .exclude(groups__name=REGISTRY_ADMINISTRATORS)
        .exclude(Exists(holds))
        .count()
    )


def permissions_notice(database: str) -> str:
    """What the operator reads after migrating while some active users hold no permission."""
    count = without_permission(database)
    if not count:
        return ""
    address = Registry.objects.using(database).values_list("address", flat=True).first()
    return (
        "Permissions are enforced: a credential reaches only the repositories its owner may "
        f"(Read, Edit or Manage on an organization). {count} active user(s) hold no permission "
        "and can pull or push nothing. Grant them some, for example every active user Edit on "
        "an organization:\n"
        f"  python manage.py grant_permissions --registry {address or '<registry address>'} "
        "--organization <name> --create --level edit --all-active-users\n"
        "Registry administrators (superusers, the 'Registry Administrators' group) may use "
        "every repository. See README.md, 'Upgrading'."
    )


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
        notice = permissions_notice(options["database"])
        if notice and options["verbosity"] >= 1:
            self.stdout.write(self.style.WARNING(notice))
