"""GET /service/token: the realm a Distribution registry sends clients to."""

from __future__ import annotations

import base64
from datetime import timedelta

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from credentials.models import (
    Actor,
    LongTermCredential,
    Registry,
    TemporaryCredential,
    User,
)
from credentials.rules import EDIT, REGISTRY_ADMINISTRATORS
from tests.helpers import ask, basic, login_failures, mint_temporary, permit

pytestmark = pytest.mark.usefixtures("token_keys", "permitted")


@pytest.fixture
def permitted(owner: User, registry: Registry) -> None:
    """The owner may pull and push in organizations `team` and `ns` (what a token grants
    where they may not: tests/test_registry_token_permissions.py)."""
    permit(registry, "team", EDIT, user=owner)
    permit(registry, "ns", EDIT, user=owner)


@pytest.fixture
def administrator(owner: User) -> User:
    """The owner as a registry administrator: Manage everywhere, repositories outside any
    organization (`a`, `b`) included."""
    owner.groups.add(Group.objects.get_or_create(name=REGISTRY_ADMINISTRATORS)[0])
    return owner


@pytest.fixture
def auth(credential) -> str:
    """The Basic authorization of the owner's long-term credential (conftest's `credential`)."""
    cred, password = credential
    return basic(cred.username, password)


def decode(response, token_keys: tuple[str, str], audience: str) -> dict:
    with open(token_keys[1], "rb") as handle:
        public_key = x509.load_pem_x509_certificate(handle.read()).public_key()
    return jwt.decode(response.json()["token"], public_key, algorithms=["ES256"], audience=audience)


def test_a_valid_long_term_credential_gets_a_token_for_its_scope(
    client: Client, credential, auth: str, registry: Registry, token_keys
) -> None:
    cred, _ = credential
    response = ask(client, auth, registry.address, "repository:team/app:pull,push")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "access_token", "expires_in", "issued_at"}
    assert body["token"] == body["access_token"]
    assert body["expires_in"] == 300
    claims = decode(response, token_keys, registry.address)
    assert claims["iss"] == "swrconsole"
    assert claims["sub"] == cred.username
    assert claims["exp"] - claims["iat"] == 300
    assert claims["jti"]
    assert claims["access"] == [
        {"type": "repository", "name": "team/app", "actions": ["pull", "push"]}
    ]
    header = jwt.get_unverified_header(body["token"])
    assert header["alg"] == "ES256"
    with open(token_keys[1], "rb") as handle:
        certificate = x509.load_pem_x509_certificate(handle.read())
    assert base64.b64decode(header["x5c"][0]) == certificate.public_bytes(Encoding.DER)
    assert re_kid(header["kid"])


def re_kid(kid: str) -> bool:
    parts = kid.split(":")
    return len(parts) == 12 and all(len(part) == 4 for part in parts)


def test_a_login_without_scope_gets_a_token_with_no_access(
    client: Client, auth: str, registry: Registry, token_keys
) -> None:
    response = ask(client, auth, registry.address)
    assert decode(response, token_keys, registry.address)["access"] == []


def test_only_the_intersection_of_asked_and_allowed_is_granted(
    administrator: User, client: Client, auth: str, registry: Registry, token_keys, settings
) -> None:
    response = ask(
        client,
        auth,
        registry.address,
        "repository:a:pull,push,delete",
        "registry:catalog:*",
        "repository:b:*",
    )
    assert decode(response, token_keys, registry.address)["access"] == [
        {"type": "repository", "name": "a", "actions": ["pull", "push"]}
    ]
    settings.REGISTRY_TOKEN_ACTIONS = ["pull"]
    response = ask(client, auth, registry.address, "repository:a:pull,push")
    assert decode(response, token_keys, registry.address)["access"] == [
        {"type": "repository", "name": "a", "actions": ["pull"]}
    ]


def test_a_repository_name_with_a_port_style_colon_is_parsed(
    client: Client, auth: str, registry: Registry, token_keys
) -> None:
    response = ask(client, auth, registry.address, "repository:ns/app:pull")
    assert decode(response, token_keys, registry.address)["access"][0]["name"] == "ns/app"


def test_another_registrys_service_is_not_granted(
    client: Client, auth: str, other_registry: Registry
) -> None:
    assert ask(client, auth, other_registry.address, "repository:a:pull").status_code == 401


def test_an_unknown_service_is_refused(client: Client, auth: str) -> None:
    assert ask(client, auth, "registry.unknown.example").status_code == 401


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer abc",
        "Basic",
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"no-colon-here").decode(),
        "Basic " + base64.b64encode(b"user:").decode(),
        "Basic " + base64.b64encode(b":password").decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:\xfa\xfb").decode(),
        "Basic " + base64.b64encode(b"u" * 10_000 + b":" + b"p" * 10_000).decode(),
        "Basic " + "A" * 100_000,
    ],
)
def test_malformed_credentials_get_a_401_not_a_500(
    client: Client, registry: Registry, authorization: str | None
) -> None:
    response = ask(client, authorization, registry.address)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="SWR Console registry token service"'


def test_wrong_password_unknown_user_and_empty_password_look_the_same(
    client: Client, credential, registry: Registry
) -> None:
    cred, password = credential
    answers = [
        ask(client, basic(cred.username, "0" * 64), registry.address),
        ask(client, basic("cn-north-4@NOBODYNOBODYNOBODY00", password), registry.address),
        ask(client, basic(cred.username, password[:-1]), registry.address),
        ask(client, basic(cred.username, password.encode() + b"\xff"), registry.address),
    ]
    assert {response.status_code for response in answers} == {401}
    assert len({response.content for response in answers}) == 1


def test_disabled_deleted_and_federated_credentials_are_refused(
    client: Client, credential, auth: str, registry: Registry, owner: User
) -> None:
    cred, _ = credential
    assert ask(client, auth, registry.address).status_code == 200
    cred.disable(by=Actor(user=owner))
    assert ask(client, auth, registry.address).status_code == 401
    cred.enable(by=Actor(user=owner))
    owner.is_federated = True
    owner.save()
    assert ask(client, auth, registry.address).status_code == 401
    owner.is_federated = False
    owner.is_active = False
    owner.save()
    assert ask(client, auth, registry.address).status_code == 401
    owner.is_active = True
    owner.save()
    assert ask(client, auth, registry.address).status_code == 200
    cred.delete_by(by=Actor(user=owner))
    assert ask(client, auth, registry.address).status_code == 401


def test_temporary_credentials_work_until_they_expire(
    client: Client, owner: User, registry: Registry, other_registry: Registry
) -> None:
    temp, password = mint_temporary(owner, registry)
    auth = basic(temp.username, password)
    assert ask(client, auth, registry.address, "repository:x:push").status_code == 200
    assert ask(client, auth, other_registry.address).status_code == 200  # same project
    TemporaryCredential.objects.filter(pk=temp.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert ask(client, auth, registry.address).status_code == 401


def test_a_temporary_credential_of_a_deactivated_user_is_refused(
    client: Client, owner: User, registry: Registry
) -> None:
    temp, password = mint_temporary(owner, registry)
    owner.is_active = False
    owner.save()
    assert ask(client, basic(temp.username, password), registry.address).status_code == 401


def test_a_temporary_credential_is_refused_by_another_projects_registry(
    client: Client, owner: User, registry: Registry, region
) -> None:
    elsewhere = Registry.objects.create(
        region=region, name="x", address="x.example", project_name="cn-north-4_other"
    )
    temp, password = mint_temporary(owner, registry)
    assert ask(client, basic(temp.username, password), elsewhere.address).status_code == 401


def test_failures_are_audited(client: Client, credential, registry: Registry) -> None:
    cred, _ = credential
    client.get(
        "/service/token",
        {"service": registry.address},
        headers={"Authorization": basic(cred.username, "wrong"), "User-Agent": "skopeo/1.9"},
    )
    event = login_failures().get()
    assert event.credential_username == cred.username
    assert event.ip_address == "127.0.0.1"
    assert event.user_agent == "skopeo/1.9"
    assert event.registry == registry
    assert event.detail["reason"] == "wrong, disabled or expired credential"


def test_repeated_failures_for_a_username_are_throttled(
    client: Client, credential, auth: str, registry: Registry, settings
) -> None:
    settings.REGISTRY_LOGIN_FAILURES_PER_USERNAME = "3/m"
    cred, _ = credential
    for _ in range(3):
        assert ask(client, basic(cred.username, "wrong"), registry.address).status_code == 401
    assert ask(client, auth, registry.address).status_code == 401
    events = login_failures()
    # Three checked failures, then one event for the throttled window (issue 14).
    assert events.exclude(detail__reason="throttled").count() == 3
    assert events.filter(detail__reason="throttled").count() == 1


def test_repeated_failures_from_one_ip_are_throttled(
    client: Client, auth: str, registry: Registry, settings
) -> None:
    settings.REGISTRY_LOGIN_FAILURES_PER_IP = "3/m"
    for number in range(3):
        ask(client, basic(f"cn-north-4@GUESS{number:015}", "x"), registry.address)
    assert ask(client, auth, registry.address).status_code == 401
    other_ip = client.get(
        "/service/token",
        {"service": registry.address},
        headers={"Authorization": auth},
        REMOTE_ADDR="10.9.8.7",
    )
    assert other_ip.status_code == 200


def test_last_used_is_recorded_at_most_once_a_minute(
    client: Client, credential, auth: str, registry: Registry
) -> None:
    cred, _ = credential
    ask(client, auth, registry.address)
    cred.refresh_from_db()
    first = cred.last_used_at
    assert first is not None
    with CaptureQueriesContext(connection) as queries:
        assert ask(client, auth, registry.address).status_code == 200
    assert not [q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    cred.refresh_from_db()
    assert cred.last_used_at == first
    LongTermCredential.objects.filter(pk=cred.pk).update(last_used_at=first - timedelta(minutes=2))
    ask(client, auth, registry.address)
    cred.refresh_from_db()
    assert cred.last_used_at > first


@pytest.mark.parametrize(("age", "recorded"), [(59, False), (61, True)])
def test_last_used_is_recorded_once_it_is_a_minute_old(
    client: Client, credential, auth: str, registry: Registry, age: int, recorded: bool
) -> None:
    cred, _ = credential
    before = timezone.now() - timedelta(seconds=age)
    LongTermCredential.objects.filter(pk=cred.pk).update(last_used_at=before)
    assert ask(client, auth, registry.address).status_code == 200
    cred.refresh_from_db()
    assert (cred.last_used_at > before) is recorded


def test_token_answers_are_never_cached(
    client: Client, credential, auth: str, registry: Registry
) -> None:
    cred, _ = credential
    granted = ask(client, auth, registry.address)
    refused = ask(client, basic(cred.username, "wrong"), registry.address)
    assert (granted.status_code, refused.status_code) == (200, 401)
    for response in (granted, refused):
        assert response["Cache-Control"] == "no-store"
        assert response["Pragma"] == "no-cache"


def test_a_successful_token_request_is_one_query(
    client: Client, auth: str, registry: Registry
) -> None:
    ask(client, auth, registry.address)  # records Last Used
    with CaptureQueriesContext(connection) as queries:
        assert ask(client, auth, registry.address).status_code == 200
    assert len(queries) == 1


def test_last_used_shows_on_the_long_term_tab(
    client: Client, owner_client: Client, credential, auth: str, registry: Registry
) -> None:
    from django.urls import reverse

    cred, _ = credential
    url = reverse("long_term_tab", args=[registry.public_id])
    assert owner_client.get(url).content.decode().count(" UTC</time>") == 1  # Created only
    ask(client, auth, registry.address)
    cred.refresh_from_db()
    page = owner_client.get(url).content.decode()
    assert cred.last_used_at.strftime("%Y-%m-%d %H:%M") + " UTC" in page


def test_a_pull_request_gets_what_the_credential_may_do_on_that_repository(
    client: Client, auth: str, registry: Registry, token_keys, settings
) -> None:
    response = ask(client, auth, registry.address, "repository:team/app:pull")
    assert decode(response, token_keys, registry.address)["access"] == [
        {"type": "repository", "name": "team/app", "actions": ["pull", "push"]}
    ]
    settings.REGISTRY_TOKEN_ACTIONS = ["pull"]  # read-only: pull-only tokens, as asked or not
    response = ask(client, auth, registry.address, "repository:team/app:push")
    assert decode(response, token_keys, registry.address)["access"] == [
        {"type": "repository", "name": "team/app", "actions": ["pull"]}
    ]


def test_delete_is_granted_only_when_asked_and_allowed(
    administrator: User, client: Client, auth: str, registry: Registry, token_keys, settings
) -> None:
    settings.REGISTRY_TOKEN_ACTIONS = ["pull", "push", "delete"]
    asked = ask(client, auth, registry.address, "repository:a:delete", "repository:b:pull")
    assert decode(asked, token_keys, registry.address)["access"] == [
        {"type": "repository", "name": "a", "actions": ["delete", "pull", "push"]},
        {"type": "repository", "name": "b", "actions": ["pull", "push"]},
    ]


def test_the_catalog_is_granted_only_when_the_setting_allows_it(
    administrator: User, client: Client, auth: str, registry: Registry, token_keys, settings
) -> None:
    off = ask(client, auth, registry.address, "registry:catalog:*")
    assert decode(off, token_keys, registry.address)["access"] == []
    settings.REGISTRY_TOKEN_CATALOG = True
    on = ask(client, auth, registry.address, "registry:catalog:*", "registry:other:*")
    assert decode(on, token_keys, registry.address)["access"] == [
        {"type": "registry", "name": "catalog", "actions": ["*"]}
    ]
