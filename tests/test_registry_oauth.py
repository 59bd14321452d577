"""POST /service/token (the OAuth2 flow): the password grant and malformed requests.
Refresh tokens, on both flows: tests/test_registry_refresh_tokens.py."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from credentials.models import (
    LongTermCredential,
    RefreshToken,
    Registry,
    User,
)
from credentials.rules import EDIT, REGISTRY_ADMINISTRATORS
from tests.helpers import apply_credential_change as apply_change
from tests.helpers import (
    ask,
    basic,
    login_failures,
    mint_temporary,
    new_credential,
    password_grant,
    permit,
    refresh_grant,
)
from tests.helpers import assert_oauth_refused as assert_refused
from tests.helpers import oauth_post as post
from tests.helpers import oauth_stored_rows as stored_rows
from tests.helpers import token_claims as claims

pytestmark = pytest.mark.usefixtures("token_keys")

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def client() -> Client:
    # As a registry client calls: no session, and CSRF checked as for any POST.
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def credential(owner: User, registry: Registry) -> tuple[LongTermCredential, str]:
    permit(registry, "team", EDIT, user=owner)  # the owner may pull and push in `team`
    return new_credential(owner, registry, "node")


# --- The password grant ---------------------------------------------------------------------


def test_the_password_grant_answers_an_access_token_for_the_scope(
    client: Client, credential, registry: Registry, token_keys
) -> None:
    cred, password = credential
    response = post(
        client,
        password_grant(cred, password, registry.address, scope="repository:team/app:pull"),
        HTTP_USER_AGENT="containerd/1.6.20",
    )
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    assert response["Pragma"] == "no-cache"
    body = response.json()
    assert set(body) == {"access_token", "scope", "expires_in", "issued_at"}
    assert body["expires_in"] == 300
    # What the credential may do on the repository it named: pull and push (DECISIONS.md).
    assert body["scope"] == "repository:team/app:pull,push"
    decoded = claims(body["access_token"], token_keys, registry.address)
    assert decoded["sub"] == cred.username
    assert decoded["access"] == [
        {"type": "repository", "name": "team/app", "actions": ["pull", "push"]}
    ]
    cred.refresh_from_db()
    assert cred.last_used_at is not None
    assert not RefreshToken.objects.exists()


def test_several_scopes_in_one_field_are_each_granted(
    client: Client, credential, registry: Registry, token_keys
) -> None:
    cred, password = credential
    # Repositories outside any organization: a registry administrator's.
    cred.owner.groups.add(Group.objects.get_or_create(name=REGISTRY_ADMINISTRATORS)[0])
    scope = "repository:a:pull repository:b:push registry:catalog:*"
    body = post(client, password_grant(cred, password, registry.address, scope=scope)).json()
    assert body["scope"] == "repository:a:pull,push repository:b:pull,push"


def test_a_temporary_credential_gets_a_token_on_post(
    client: Client, owner: User, registry: Registry
) -> None:
    temp, password = mint_temporary(owner, registry)
    response = post(
        client, password_grant(temp, password, registry.address, scope="repository:x:push")
    )
    assert response.status_code == 200, response.content


def test_a_wrong_password_and_an_unknown_user_are_refused_alike_and_audited(
    client: Client, credential, registry: Registry
) -> None:
    cred, password = credential
    wrong = post(client, password_grant(cred, "0" * 64, registry.address))
    unknown = post(
        client,
        {**password_grant(cred, password, registry.address), "username": "cn-north-4@NOBODY"},
    )
    assert_refused(wrong)
    assert_refused(unknown)
    assert wrong.content == unknown.content
    events = login_failures().order_by("id")
    assert [e.credential_username for e in events] == [cred.username, "cn-north-4@NOBODY"]
    assert events[0].detail == {
        "reason": "wrong, disabled or expired credential",
        "service": registry.address,
    }


@pytest.mark.parametrize("change", ["disable", "delete", "deactivate", "federate", "expire"])
def test_the_password_grant_refuses_what_the_get_flow_refuses(
    client: Client, credential, registry: Registry, owner: User, change: str
) -> None:
    cred, password = credential
    fields = password_grant(cred, password, registry.address)
    assert post(client, fields).status_code == 200
    apply_change(change, cred, owner)
    assert_refused(post(client, fields))


def test_another_registrys_service_is_refused(
    client: Client, credential, other_registry: Registry
) -> None:
    cred, password = credential
    assert_refused(post(client, password_grant(cred, password, other_registry.address)))
    event = login_failures().get()
    assert event.detail["reason"] == "unknown service, or another registry's"


def test_post_failures_are_throttled_with_the_get_flows(
    client: Client, credential, registry: Registry, settings
) -> None:
    settings.REGISTRY_LOGIN_FAILURES_PER_USERNAME = "3/m"
    cred, password = credential
    for _ in range(3):
        assert_refused(post(client, password_grant(cred, "wrong", registry.address)))
    assert_refused(post(client, password_grant(cred, password, registry.address)))
    assert ask(Client(), basic(cred.username, password), registry.address).status_code == 401
    # Three checked failures, then one event for the throttled window (issue 14).
    assert login_failures().exclude(detail__reason="throttled").count() == 3
    assert login_failures().filter(detail__reason="throttled").count() == 1


# --- Malformed requests: each its 400, nothing stored ----------------------------------------


def test_an_unknown_grant_type_is_unsupported(client: Client, credential, registry) -> None:
    cred, password = credential
    for grant in ("client_credentials", "authorization_code", "PASSWORD"):
        response = post(
            client, {**password_grant(cred, password, registry.address), "grant_type": grant}
        )
        assert response.status_code == 400
        assert response.json()["error"] == "unsupported_grant_type"
    assert stored_rows() == 0


@pytest.mark.parametrize(
    ("grant", "missing"),
    [
        ("password", "grant_type"),
        ("password", "client_id"),
        ("password", "service"),
        ("password", "username"),
        ("password", "password"),
        ("refresh_token", "refresh_token"),
        ("refresh_token", "service"),
    ],
)
def test_a_missing_field_is_an_invalid_request(
    client: Client, credential, registry: Registry, grant: str, missing: str
) -> None:
    cred, password = credential
    fields = (
        password_grant(cred, password, registry.address)
        if grant == "password"
        else refresh_grant("x" * 43, registry.address)
    )
    for value in (None, ""):
        sent = {k: v for k, v in fields.items() if k != missing}
        if value is not None:
            sent[missing] = value
        response = post(client, sent)
        assert response.status_code == 400, (missing, response.content)
        assert response.json() == {
            "error": "invalid_request",
            "error_description": f"{missing} is required.",
        }
    assert stored_rows() == 0


@pytest.mark.parametrize(
    "field", ["grant_type", "client_id", "service", "username", "password", "scope", "access_type"]
)
def test_a_nul_byte_in_any_field_is_an_invalid_request(
    client: Client, credential, registry: Registry, field: str
) -> None:
    cred, password = credential
    fields = password_grant(
        cred, password, registry.address, scope="repository:a:pull", access_type="offline"
    )
    fields[field] = fields[field][:3] + "\x00" + fields[field][3:]
    response = post(client, fields)
    assert response.status_code == 400, response.content
    assert response.json()["error"] in ("invalid_request", "unsupported_grant_type")
    assert stored_rows() == 0


def test_a_nul_byte_in_a_refresh_token_is_an_invalid_request(
    client: Client, registry: Registry
) -> None:
    response = post(client, refresh_grant("abc\x00def", registry.address))
    assert response.status_code == 400
    assert stored_rows() == 0


@pytest.mark.parametrize(
    "field", ["username", "password", "service", "scope", "client_id", "refresh_token"]
)
def test_a_100_kb_value_is_an_invalid_request(
    client: Client, credential, registry: Registry, field: str
) -> None:
    cred, password = credential
    fields = password_grant(cred, password, registry.address)
    fields[field] = "a" * 100_000
    response = post(client, fields)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert stored_rows() == 0


def test_values_over_their_limit_inside_a_small_body_are_invalid(
    client: Client, credential, registry: Registry
) -> None:
    cred, password = credential
    for field, length in [("password", 257), ("username", 257), ("service", 1025)]:
        fields = password_grant(cred, password, registry.address)
        fields[field] = "a" * length
        response = post(client, fields)
        assert response.status_code == 400
        assert response.json() == {
            "error": "invalid_request",
            "error_description": f"{field} is too long.",
        }
    assert stored_rows() == 0


def test_a_field_given_twice_is_an_invalid_request(
    client: Client, credential, registry: Registry
) -> None:
    cred, password = credential
    fields = [*password_grant(cred, password, registry.address).items(), ("password", "other")]
    response = post(client, fields)
    assert response.status_code == 400
    assert response.json()["error_description"] == "password must be given once."


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencodedx",
        "",
    ],
)
def test_a_body_that_is_not_form_encoded_is_an_invalid_request(
    client: Client, credential, registry: Registry, content_type: str
) -> None:
    cred, password = credential
    body = urlencode(password_grant(cred, password, registry.address))
    response = client.generic("POST", "/service/token", body, content_type=content_type)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "The body must be application/x-www-form-urlencoded.",
    }
    assert stored_rows() == 0


def test_form_encoded_with_a_charset_is_accepted(client: Client, credential, registry) -> None:
    cred, password = credential
    body = urlencode(password_grant(cred, password, registry.address))
    response = client.generic("POST", "/service/token", body, content_type=f"{FORM}; charset=UTF-8")
    assert response.status_code == 200


def test_bytes_that_are_not_utf8_are_refused_not_a_500(
    client: Client, credential, registry
) -> None:
    cred, _ = credential
    body = urlencode(password_grant(cred, "x", registry.address)).encode() + b"&password=%FF%FE"
    response = client.generic("POST", "/service/token", body, content_type=FORM)
    assert response.status_code == 400  # password given twice


def test_other_methods_are_not_allowed(client: Client) -> None:
    for method in ("PUT", "DELETE", "PATCH"):
        response = client.generic(method, "/service/token")
        assert response.status_code == 405
        assert response["Allow"] == "GET, POST"
