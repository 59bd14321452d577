"""The migrations: they agree with the models, and the squash of 0001–0015 is safe to upgrade over."""

from __future__ import annotations

import importlib
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

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
    # Every model of the app but the console's users (and who they are at the identity
    # provider, and its groups) and the reminders' bookkeeping.
    users = ["view_user", "view_federatedidentity", "view_providergroup"]
    views = Permission.objects.filter(
        content_type__app_label="credentials", codename__startswith="view_"
    ).exclude(codename__in=[*users, "view_credentialreminder"])
    assert sorted(granted) == sorted(views.values_list("codename", flat=True))
    # credentials of three kinds, access keys, events, registries, regions, organizations and
    # their permissions
    assert len(granted) == 9


def test_0005_numbers_the_passwords_so_no_refresh_token_outlives_its_own(owner, registry) -> None:
    from django.apps import apps

    from credentials.models import LongTermCredential, RefreshToken
    from tests.helpers import make_credential

    step = importlib.import_module("credentials.migrations.0005_refresh_token_password_version")
    now = timezone.now()
    never, overlapping, ended = (make_credential(owner, registry, n) for n in "abc")
    LongTermCredential.objects.filter(pk=overlapping.pk).update(
        password_reset_at=now - timedelta(hours=1), previous_password_until=now + timedelta(hours=1)
    )
    LongTermCredential.objects.filter(pk=ended.pk).update(
        password_reset_at=now - timedelta(hours=1)
    )

    def token(credential, age_hours: int) -> int:
        return RefreshToken.objects.create(
            digest=f"{credential.pk}-{age_hours}",
            long_term=credential,
            service=registry.address,
            created_at=now - timedelta(hours=age_hours),
            expires_at=now + timedelta(days=1),
        ).pk

    rows = {
        "never reset": token(never, 2),
        "before a reset in overlap": token(overlapping, 2),
        "after that reset": token(overlapping, 0),
        "before a reset whose overlap ended": token(ended, 2),
        "after that one": token(ended, 0),
    }
    step.number_the_passwords(apps, connection.schema_editor())

    versions = dict(RefreshToken.objects.values_list("pk", "password_version"))
    assert {label: versions.get(pk, "deleted") for label, pk in rows.items()} == {
        "never reset": 0,
        "before a reset in overlap": 0,
        "after that reset": 1,
        "before a reset whose overlap ended": "deleted",
        "after that one": 1,
    }
    assert dict(LongTermCredential.objects.values_list("name", "password_version")) == {
        "a": 0,
        "b": 1,
        "c": 1,
    }


def test_0011_encrypts_an_id_token_that_0010_kept_in_clear(owner) -> None:
    from django.apps import apps

    from credentials.models import FederatedIdentity

    step = importlib.import_module(
        "credentials.migrations.0011_federated_identity_id_token_encrypted"
    )
    clear = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJnaW5hIn0.c2lnbmF0dXJl"
    FederatedIdentity.objects.create(
        user=owner, issuer="https://id.example", subject="gina", id_token_ciphertext=clear
    )

    step.encrypt_stored(apps, connection.schema_editor())
    step.encrypt_stored(apps, connection.schema_editor())  # twice: encrypted once only

    identity = FederatedIdentity.objects.get(subject="gina")
    assert identity.id_token_ciphertext != clear
    assert identity.id_token == clear
