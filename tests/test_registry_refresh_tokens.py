"""Refresh tokens, on both flows of /service/token: offline access, the refresh grant, and
what ends a token."""

from __future__ import annotations

import base64
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from credentials.models import (
    Actor,
    LongTermCredential,
    RefreshToken,
    Registry,
    TemporaryCredential,
    User,
    digest_password,
)
from tests.helpers import apply_credential_change as apply_change
from tests.helpers import assert_oauth_refused as assert_refused
from tests.helpers import (
    login_failures,
    mint_temporary,
    new_credential,
    password_grant,
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
