"""The migrations: they agree with the models, and the squash of 0001–0015 is safe to upgrade over."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

pytestmark = pytest.mark.django_db

SQUASHED = "0001_squashed_0015_user_language"


def test_the_models_need_no_new_migration() -> None:
    out = StringIO()
    call_command("makemigrations", check=True, dry_run=True, stdout=out)
    assert "No changes detected" in out.getvalue()


def test_a_database_with_all_fifteen_applied_has_nothing_to_migrate() -> None:
    applied = MigrationRecorder(connection).applied_migrations()
    assert ("credentials", "0015_user_language") in applied
    assert ("credentials", SQUASHED) in applied
    out = StringIO()
    call_command("migrate", plan=True, stdout=out)
    assert "No planned migration operations" in out.getvalue()


def test_a_database_stopped_partway_through_them_is_refused_with_what_to_do() -> None:
    replaced = MigrationLoader(None).disk_migrations[("credentials", SQUASHED)].replaces
    recorded = MigrationRecorder.Migration.objects.filter(app="credentials")
    # As if the database had been migrated by the old files up to 0010 only.
    recorded.filter(name__in=[SQUASHED, *(name for _, name in replaced[10:])]).delete()
    before = set(recorded.values_list("name", flat=True))

    with pytest.raises(CommandError) as refusal:
        call_command("migrate", stdout=StringIO())

    message = str(refusal.value)
    assert "stopped at credentials 0010_credential_lifecycle" in message
    assert "git checkout 1a9ad6e; python manage.py migrate" in message
    assert set(recorded.values_list("name", flat=True)) == before  # nothing was applied


def test_the_auditors_group_may_view_every_credential_and_event_and_change_nothing() -> None:
    granted = Group.objects.get(name="Auditors").permissions.values_list("codename", flat=True)
    # Every model of the app but the console's users and the reminders' bookkeeping.
    views = Permission.objects.filter(
        content_type__app_label="credentials", codename__startswith="view_"
    ).exclude(codename__in=["view_user", "view_credentialreminder"])
    assert sorted(granted) == sorted(views.values_list("codename", flat=True))
    assert len(granted) == 7  # credentials of three kinds, access keys, events, registries, regions
