"""Reset Password: a new password in a new CSV, the previous one accepted by the token
service for ROTATION_GRACE_HOURS (0: not at all), both kept only as digests, audited."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from credentials.models import Actor, AuditEvent, LongTermCredential, Registry, User
from tests.helpers import NOW, ask, basic, client_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("token_keys")]


@pytest.fixture
def frozen(time_machine, settings) -> datetime:
    time_machine.move_to(NOW, tick=False)
    settings.SESSION_COOKIE_AGE = 30 * 24 * 3600
    return NOW


@pytest.fixture
def credential(owner: User, registry: Registry) -> tuple[LongTermCredential, str]:
    return LongTermCredential.objects.create_for(
        owner=owner, registry=registry, name="ci-bot", by=Actor(user=owner), expires_at=None
    )


def reset_url(credential: LongTermCredential) -> str:
    return reverse("reset_long_term", args=[credential.registry.public_id, credential.public_id])


def reset(client: Client, credential: LongTermCredential) -> list[str]:
    response = client.post(reset_url(credential), HTTP_HX_REQUEST="true")
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/csv")
    assert response["Cache-Control"] == "no-store"
    assert "credentialsChanged" in response["HX-Trigger"]
    assert response["Content-Disposition"] == 'attachment; filename="ci-bot.csv"'
    header, row = list(csv.reader(io.StringIO(response.content.decode())))
    assert header[2] == "Password"
    return row


def logs_in(client: Client, username: str, password: str, registry: Registry) -> bool:
    return ask(client, basic(username, password), registry.address).status_code == 200


def test_the_dialog_says_how_long_the_old_password_keeps_working(
    owner_client: Client, credential, settings
) -> None:
    cred, _ = credential
    page = owner_client.get(reset_url(cred), HTTP_HX_REQUEST="true").content.decode()
    assert "Reset Password" in page
    assert "keeps working for 24 more hours" in page
    settings.ROTATION_GRACE_HOURS = 0
    page = owner_client.get(reset_url(cred)).content.decode()  # without JavaScript: the page
    assert "stops working at once" in page
    assert "<dialog" in page
    assert " open>" in page


def test_during_the_overlap_both_passwords_log_in_after_it_only_the_new(
    client: Client, owner: User, registry: Registry, credential, frozen: datetime, time_machine
) -> None:
    cred, old = credential
    row = reset(client_for(owner), cred)
    new = row[2]
    assert new != old
    assert row[1] == cred.username
    assert row[4] == f"docker login -u {cred.username} -p {new} {registry.address}"
    assert logs_in(client, cred.username, old, registry)
    assert logs_in(client, cred.username, new, registry)
    until = NOW + timedelta(hours=24)
    time_machine.move_to(until - timedelta(microseconds=1), tick=False)
    assert logs_in(client, cred.username, old, registry)
    time_machine.move_to(until, tick=False)
    assert not logs_in(client, cred.username, old, registry)
    assert logs_in(client, cred.username, new, registry)


def test_with_no_grace_the_old_password_stops_at_once(
    client: Client, owner: User, registry: Registry, credential, settings
) -> None:
    settings.ROTATION_GRACE_HOURS = 0
    cred, old = credential
    new = reset(client_for(owner), cred)[2]
    assert not logs_in(client, cred.username, old, registry)
    assert logs_in(client, cred.username, new, registry)
    cred.refresh_from_db()
    assert cred.previous_password_digest == ""
    assert cred.previous_password_until is None


def test_a_second_reset_ends_the_first_old_password(
    client: Client, owner: User, registry: Registry, credential
) -> None:
    cred, first = credential
    console = client_for(owner)
    second = reset(console, cred)[2]
    third = reset(console, cred)[2]
    assert not logs_in(client, cred.username, first, registry)
    assert logs_in(client, cred.username, second, registry)
    assert logs_in(client, cred.username, third, registry)


def test_only_digests_are_kept_and_the_reset_is_audited_without_secrets(
    owner: User, registry: Registry, credential, frozen: datetime
) -> None:
    cred, old = credential
    new = reset(client_for(owner), cred)[2]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {LongTermCredential._meta.db_table}")
        stored = repr(cursor.fetchall())
        cursor.execute(f"SELECT * FROM {AuditEvent._meta.db_table}")
        audited = repr(cursor.fetchall())
    for secret in (old, new):
        assert secret not in stored
        assert secret not in audited
    event = AuditEvent.objects.get(action=AuditEvent.Action.LONG_TERM_PASSWORD_RESET)
    assert event.actor == owner
    assert event.credential_username == cred.username
    assert event.detail == {"previous_password_until": "2026-12-01T09:30:00+00:00"}


def test_the_row_shows_until_when_the_old_password_works(
    owner: User, registry: Registry, credential, frozen: datetime, time_machine
) -> None:
    cred, _ = credential
    console = client_for(owner)
    url = reverse("long_term_tab", args=[registry.public_id])
    assert "Previous password works" not in console.get(url).content.decode()
    reset(console, cred)
    page = re.sub(r"<[^>]+>", "", console.get(url).content.decode())  # the <time> element
    assert "Previous password works until 2026-12-01 09:30 UTC" in page
    time_machine.move_to(NOW + timedelta(hours=24), tick=False)
    assert "Previous password works" not in console.get(url).content.decode()


def test_a_reset_raises_the_owners_credentials_version(owner: User, credential) -> None:
    cred, _ = credential
    before = User.objects.get(pk=owner.pk).credentials_version
    cred.reset_password(by=Actor(user=owner))
    assert User.objects.get(pk=owner.pk).credentials_version == before + 1


def test_an_expired_credential_cannot_be_reset(
    owner: User, registry: Registry, frozen: datetime, time_machine
) -> None:
    cred, _ = LongTermCredential.objects.create_for(
        owner=owner, registry=registry, name="ci-bot", by=Actor(user=owner),
        expires_at=NOW + timedelta(days=1),
    )  # fmt: skip
    console = client_for(owner)
    time_machine.move_to(NOW + timedelta(days=1), tick=False)
    response = console.post(reset_url(cred), HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    assert "has expired" in response.content.decode()
    digest = cred.password_digest
    cred.refresh_from_db()
    assert cred.password_digest == digest
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.LONG_TERM_PASSWORD_RESET)


def test_someone_elses_credential_cannot_be_reset(
    other_user: User, credential, registry: Registry
) -> None:
    cred, _ = credential
    assert client_for(other_user).post(reset_url(cred)).status_code == 404


def test_the_token_lookup_stays_one_query_during_the_overlap(
    client: Client, owner: User, registry: Registry, credential
) -> None:
    cred, old = credential
    reset(client_for(owner), cred)
    logs_in(client, cred.username, old, registry)  # records Last Used
    with CaptureQueriesContext(connection) as queries:
        assert logs_in(client, cred.username, old, registry)
    assert len(queries) == 1
