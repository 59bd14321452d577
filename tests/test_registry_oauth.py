"""POST /service/token (the OAuth2 flow) and refresh tokens, on both flows."""

from __future__ import annotations

import base64
import io
from datetime import timedelta
from urllib.parse import urlencode

import jwt
import pytest
from cryptography import x509
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
from tests.helpers import ask, basic, login_failures, mint_temporary, new_credential

pytestmark = pytest.mark.usefixtures("token_keys")

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def client() -> Client:
    # As a registry client calls: no session, and CSRF checked as for any POST.
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def credential(owner: User, registry: Registry) -> tuple[LongTermCredential, str]:
    return new_credential(owner, registry, "node")


def post(client: Client, fields: dict[str, str] | list[tuple[str, str]], **extra: str):
    return client.post("/service/token", urlencode(fields), content_type=FORM, **extra)


def password_grant(cred: LongTermCredential | TemporaryCredential, password: str, service: str,
                   **more: str) -> dict[str, str]:  # fmt: skip
    return {
        "grant_type": "password",
        "client_id": "containerd-client",
        "username": cred.username,
        "password": password,
        "service": service,
        **more,
    }


def refresh_grant(token: str, service: str, **more: str) -> dict[str, str]:
    return {
        "grant_type": "refresh_token",
        "client_id": "docker",
        "refresh_token": token,
        "service": service,
        **more,
    }


def claims(token: str, token_keys: tuple[str, str], audience: str) -> dict:
    with open(token_keys[1], "rb") as handle:
        key = x509.load_pem_x509_certificate(handle.read()).public_key()
    return jwt.decode(token, key, algorithms=["ES256"], audience=audience)


def assert_refused(response) -> None:
    assert response.status_code == 401, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "authentication required",
    }
    assert response["WWW-Authenticate"] == 'Basic realm="SWR Console registry token service"'


def stored_rows() -> int:
    """What a request could have stored: failed-login events and refresh tokens."""
    return login_failures().count() + RefreshToken.objects.count()


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


def apply_change(change: str, cred: LongTermCredential, owner: User) -> None:
    if change == "disable":
        cred.disable(by=Actor(user=owner))
    elif change == "delete":
        cred.delete_by(by=Actor(user=owner))
    elif change == "deactivate":
        User.objects.filter(pk=owner.pk).update(is_active=False)
    elif change == "federate":
        User.objects.filter(pk=owner.pk).update(is_federated=True)
    elif change == "expire":  # its expires_at reached, as the clock would
        LongTermCredential.objects.filter(pk=cred.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )


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
