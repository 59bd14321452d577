"""Refresh tokens, on both flows of /service/token: offline access, the refresh grant, and
what ends a token."""

from __future__ import annotations

import base64
import csv
import io
from datetime import timedelta
from unittest import mock

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from credentials.models import (
    Actor,
    AuditEvent,
    LongTermCredential,
    RefreshToken,
    Registry,
    TemporaryCredential,
    User,
    digest_password,
)
from credentials.rules import EDIT
from tests.helpers import apply_credential_change as apply_change
from tests.helpers import assert_oauth_refused as assert_refused
from tests.helpers import (
    client_for,
    login_failures,
    mint_temporary,
    new_credential,
    password_grant,
    permit,
    refresh_grant,
)
from tests.helpers import oauth_post as post
from tests.helpers import token_claims as claims

pytestmark = pytest.mark.usefixtures("token_keys")


@pytest.fixture
def client() -> Client:
    # As a registry client calls: no session, and CSRF checked as for any POST.
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def credential(owner: User, registry: Registry) -> tuple[LongTermCredential, str]:
    permit(registry, "team", EDIT, user=owner)  # the owner may pull and push in `team`
    return new_credential(owner, registry, "node")


# --- Refresh tokens -------------------------------------------------------------------------


def offline_token(client: Client, cred, password: str, service: str) -> str:
    response = post(client, password_grant(cred, password, service, access_type="offline"))
    assert response.status_code == 200, response.content
    return response.json()["refresh_token"]


def test_offline_access_on_post_gives_a_refresh_token_stored_as_a_digest_only(
    client: Client, credential, registry: Registry, settings
) -> None:
    settings.REGISTRY_REFRESH_TOKEN_TTL = 3600
    cred, password = credential
    before = timezone.now()
    token = offline_token(client, cred, password, registry.address)
    stored = RefreshToken.objects.get()
    assert stored.digest == digest_password(token)
    assert stored.long_term_id == cred.pk
    assert stored.service == registry.address
    assert (
        before + timedelta(seconds=3600)
        <= stored.expires_at
        <= timezone.now() + timedelta(seconds=3600)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {RefreshToken._meta.db_table}")
        assert token not in repr(cursor.fetchall())


def test_offline_token_on_get_gives_a_refresh_token_as_docker_login_asks(
    client: Client, credential, registry: Registry
) -> None:
    cred, password = credential
    auth = {
        "Authorization": "Basic "
        + base64.b64encode(f"{cred.username}:{password}".encode()).decode()
    }
    plain = client.get("/service/token", {"service": registry.address}, headers=auth)
    assert "refresh_token" not in plain.json()
    asked = client.get(
        "/service/token",
        {"service": registry.address, "offline_token": "true", "client_id": "docker"},
        headers=auth,
    )
    body = asked.json()
    assert set(body) == {"token", "access_token", "expires_in", "issued_at", "refresh_token"}
    assert RefreshToken.objects.get().digest == digest_password(body["refresh_token"])


def test_the_refresh_grant_answers_access_tokens_without_the_password(
    client: Client, credential, registry: Registry, token_keys
) -> None:
    cred, password = credential
    token = offline_token(client, cred, password, registry.address)
    LongTermCredential.objects.filter(pk=cred.pk).update(
        last_used_at=timezone.now() - timedelta(hours=1)
    )
    for scope in ("repository:team/app:pull", "repository:other:push"):
        response = post(client, refresh_grant(token, registry.address, scope=scope))
        assert response.status_code == 200, response.content
        body = response.json()
        assert "refresh_token" not in body  # the client keeps the one it has
        decoded = claims(body["access_token"], token_keys, registry.address)
        assert decoded["sub"] == cred.username
        assert decoded["access"][0]["name"] == scope.split(":")[1]
    cred.refresh_from_db()
    assert cred.last_used_at > timezone.now() - timedelta(minutes=1)  # a use of the credential


def test_a_temporary_credentials_refresh_token_ends_with_it(
    client: Client, owner: User, registry: Registry
) -> None:
    temp, password = mint_temporary(owner, registry)
    token = offline_token(client, temp, password, registry.address)
    assert RefreshToken.objects.get().expires_at == temp.expires_at  # 24 h < the week
    assert post(client, refresh_grant(token, registry.address)).status_code == 200
    TemporaryCredential.objects.filter(pk=temp.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert_refused(post(client, refresh_grant(token, registry.address)))
    event = login_failures().get()
    assert event.credential_username == temp.username
    assert event.detail["reason"] == "refresh token of a disabled, deleted or expired credential"


@pytest.mark.parametrize("change", ["disable", "delete", "deactivate", "federate", "expire"])
def test_a_refresh_token_is_refused_on_first_use_after_its_credential_is(
    client: Client, credential, registry: Registry, owner: User, change: str
) -> None:
    cred, password = credential
    token = offline_token(client, cred, password, registry.address)
    assert post(client, refresh_grant(token, registry.address)).status_code == 200
    apply_change(change, cred, owner)
    assert_refused(post(client, refresh_grant(token, registry.address)))
    event = login_failures().get()
    assert event.ip_address == "127.0.0.1"
    if change in ("deactivate", "federate", "expire"):  # disable and delete took it with them
        assert event.credential_username == cred.username
    # Refused once, gone: undoing the change does not bring it back (log in again).
    User.objects.filter(pk=owner.pk).update(is_active=True, is_federated=False)
    if change == "disable":
        cred.enable(by=Actor(user=owner))
    assert not RefreshToken.objects.exists()
    assert_refused(post(client, refresh_grant(token, registry.address)))


def test_an_expired_refresh_token_is_refused(client: Client, credential, registry) -> None:
    cred, password = credential
    token = offline_token(client, cred, password, registry.address)
    RefreshToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_refused(post(client, refresh_grant(token, registry.address)))
    assert login_failures().get().detail["reason"] == "unknown, expired or revoked refresh token"


def test_a_refresh_token_works_only_at_the_registry_that_issued_it(
    client: Client, credential, registry: Registry, other_registry: Registry
) -> None:
    cred, password = credential
    token = offline_token(client, cred, password, registry.address)
    assert_refused(post(client, refresh_grant(token, other_registry.address)))
    assert login_failures().get().detail["reason"] == "refresh token of another registry"
    assert post(client, refresh_grant(token, registry.address)).status_code == 200


def test_unknown_refresh_tokens_are_audited_and_throttled_per_address(
    client: Client, credential, registry: Registry, settings
) -> None:
    settings.REGISTRY_LOGIN_FAILURES_PER_IP = "3/m"
    cred, password = credential
    token = offline_token(client, cred, password, registry.address)
    for guess in range(3):
        assert_refused(post(client, refresh_grant(f"guess-{guess}", registry.address)))
    assert_refused(post(client, refresh_grant(token, registry.address)))
    assert login_failures().exclude(detail__reason="throttled").count() == 3


def test_expired_refresh_tokens_are_purged(client: Client, credential, registry) -> None:
    cred, password = credential
    offline_token(client, cred, password, registry.address)
    live = offline_token(client, cred, password, registry.address)
    RefreshToken.objects.exclude(digest=digest_password(live)).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    out = io.StringIO()
    call_command("purge_expired_credentials", stdout=out)
    assert list(RefreshToken.objects.values_list("digest", flat=True)) == [digest_password(live)]
    assert "Deleted 1 registry refresh token(s)" in out.getvalue()


def test_a_refresh_grant_is_one_query_when_last_used_is_fresh(
    client: Client, credential, registry: Registry
) -> None:
    cred, password = credential
    token = offline_token(client, cred, password, registry.address)  # records Last Used
    with CaptureQueriesContext(connection) as queries:
        assert post(client, refresh_grant(token, registry.address)).status_code == 200
    assert len(queries) == 1, [q["sql"] for q in queries.captured_queries]


def test_a_refresh_grant_reads_the_counters_and_writes_nothing_to_the_cache(
    client: Client, credential, registry: Registry
) -> None:
    # A successful login remembers its address for its username (throttling.remember_address);
    # a refresh grant names no username, so there is nothing to remember: it wrote a key for
    # the empty username on every refresh (a Redis round trip each, with CACHE_URL=redis://).
    cred, password = credential
    token = offline_token(client, cred, password, registry.address)
    shared = caches["default"]
    with (
        mock.patch.object(shared, "set", wraps=shared.set) as set_,
        mock.patch.object(shared, "add", wraps=shared.add) as add,
    ):
        assert post(client, refresh_grant(token, registry.address)).status_code == 200
    assert (set_.call_args_list, add.call_args_list) == ([], [])


def test_a_refresh_token_from_before_a_password_reset_lasts_as_the_old_password_does(
    client: Client, credential, registry: Registry, owner: User, settings
) -> None:
    settings.ROTATION_GRACE_HOURS = 24
    cred, password = credential
    before = offline_token(client, cred, password, registry.address)
    new_password = cred.reset_password(by=Actor(user=owner))
    after = offline_token(client, cred, new_password, registry.address)
    assert post(client, refresh_grant(before, registry.address)).status_code == 200  # overlap
    LongTermCredential.objects.filter(pk=cred.pk).update(
        previous_password_until=timezone.now() - timedelta(seconds=1)
    )
    assert_refused(post(client, refresh_grant(before, registry.address)))
    assert post(client, refresh_grant(after, registry.address)).status_code == 200


# --- Refresh tokens bound to the password they were issued under (issue 23, item 1) ---------


def reset_over_http(owner: User, cred: LongTermCredential) -> str:
    """Reset Password as the console's button does; the new password from the CSV."""
    url = reverse("reset_long_term", args=[cred.registry.public_id, cred.public_id])
    response = client_for(owner).post(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200, response.content[:300]
    return list(csv.reader(io.StringIO(response.content.decode())))[1][2]


def test_a_later_reset_does_not_revive_refresh_tokens_an_earlier_one_ended(
    client: Client, credential, registry: Registry, owner: User, settings
) -> None:
    cred, password = credential
    older = offline_token(client, cred, password, registry.address)
    newer = offline_token(client, cred, password, registry.address)
    settings.ROTATION_GRACE_HOURS = 0
    second_password = reset_over_http(owner, cred)
    assert_refused(post(client, refresh_grant(newer, registry.address)))
    kept = offline_token(client, cred, second_password, registry.address)
    settings.ROTATION_GRACE_HOURS = 24
    reset_over_http(owner, cred)
    # The second reset's overlap keeps the password it replaced, and that password's token…
    assert post(client, refresh_grant(kept, registry.address)).status_code == 200
    # …but nothing the first reset ended: the older token stays refused.
    assert_refused(post(client, refresh_grant(older, registry.address)))
    assert_refused(post(client, refresh_grant(newer, registry.address)))


def test_a_reset_deletes_the_refresh_tokens_it_ends_and_says_how_many(
    client: Client, credential, registry: Registry, owner: User, settings
) -> None:
    settings.ROTATION_GRACE_HOURS = 24
    cred, password = credential
    first = offline_token(client, cred, password, registry.address)
    second_password = reset_over_http(owner, cred)
    second = offline_token(client, cred, second_password, registry.address)
    assert RefreshToken.objects.count() == 2  # the first lives while the overlap does
    reset_over_http(owner, cred)
    assert list(RefreshToken.objects.values_list("digest", flat=True)) == [digest_password(second)]
    events = AuditEvent.objects.filter(action=AuditEvent.Action.LONG_TERM_PASSWORD_RESET)
    assert [e.detail.get("refresh_tokens_deleted") for e in events.order_by("id")] == [None, 1]
    assert first not in repr(list(events.values()))


def test_a_refresh_token_issued_with_the_old_password_ends_with_its_overlap(
    client: Client, credential, registry: Registry, owner: User, settings
) -> None:
    settings.ROTATION_GRACE_HOURS = 24
    cred, old_password = credential
    reset_over_http(owner, cred)
    during = offline_token(client, cred, old_password, registry.address)  # still accepted
    assert post(client, refresh_grant(during, registry.address)).status_code == 200
    LongTermCredential.objects.filter(pk=cred.pk).update(
        previous_password_until=timezone.now() - timedelta(seconds=1)
    )
    assert_refused(post(client, refresh_grant(during, registry.address)))
    reason = login_failures().get().detail["reason"]
    assert reason == "refresh token of a password replaced by Reset Password"
    assert not RefreshToken.objects.exists()
