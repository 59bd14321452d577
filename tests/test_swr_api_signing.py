"""SDK-HMAC-SHA256: the console accepts what huaweicloudsdkcore's Signer signs, and nothing that
differs from it; every refusal answers Huawei's 401 body and is audited, up to a limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from django.test import Client, RequestFactory
from django.utils import timezone
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer
from huaweicloudsdkswr.v2 import (
    CreateInstanceLtCredentialRequest,
    CreateLongTermCredentialRequestBody,
    CreateSecretRequest,
    ListInstanceLtCredentialsRequest,
)

from credentials.api import signing
from credentials.models import AccessKey, Actor, AuditEvent, LongTermCredential, Registry, User
from tests.helpers import iam_body, new_access_key
from tests.huawei_sdk import signing_anew, swr_client, tampering

AK, SK = "AKEXAMPLE0123456789A", "sk" + "x" * 38


def sdk_signed(
    method: str,
    path: str,
    query: list[tuple[str, object]],
    headers: dict[str, str],
    body: bytes = b"",
) -> SdkRequest:
    request = SdkRequest(
        method=method,
        schema="http",
        host="testserver",
        resource_path=quote(path),
        query_params=query,
        header_params=dict(headers),
        body=body,
    )
    return Signer(BasicCredentials(AK, SK)).sign(request)


def as_django(signed: SdkRequest, **overrides: str):
    """The request Django sees when the SDK sends `signed`."""
    path, _, query = signed.uri.partition("?")
    headers = {k: v for k, v in signed.header_params.items() if k.lower() != "content-type"}
    factory = RequestFactory()
    return factory.generic(
        signed.method,
        path,
        data=signed.body or b"",
        content_type=signed.header_params.get("Content-Type", ""),
        QUERY_STRING=overrides.pop("query", query),
        headers=headers | overrides,
    )


def check(request) -> None:
    authorization = signing.parse_authorization(request.headers["Authorization"])
    moment = signing.signed_at(request, timezone.now(), timedelta(minutes=15))
    signing.verify(request, authorization, SK, moment)


TRICKY = {
    "method": "POST",
    "path": "/v2/a b/ü~x/it's(1)",
    "query": [("b", 2), ("a", "x y"), ("a", "1"), ("c", "ü+&=/~"), ("flag", True), ("e", "")],
    "headers": {"Content-Type": "application/json", "X-Project-Id": "p1", "User-Agent": " ua "},
    "body": b'{"name": "ci-bot"}',
}


def test_the_canonical_request_is_the_sdk_signers_own() -> None:
    check(as_django(sdk_signed(**TRICKY)))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"query": "a=1&a=x%20y&b=3&c=%C3%BC%2B%26%3D%2F~&e=&flag=true"}, "does not match"),
        ({"X-Project-Id": "p2"}, "does not match"),
        ({"X-Sdk-Content-Sha256": "UNSIGNED-PAYLOAD"}, "not the hash"),
    ],
)
def test_any_change_after_signing_is_refused(change: dict[str, str], reason: str) -> None:
    with pytest.raises(signing.SignatureError, match=reason):
        check(as_django(sdk_signed(**TRICKY), **change))


def test_a_changed_body_is_refused() -> None:
    signed = sdk_signed(**TRICKY)
    signed.body = b'{"name": "ci-bot2"}'
    with pytest.raises(signing.SignatureError, match="does not match"):
        check(as_django(signed))


@pytest.mark.parametrize("header", ["host", "x-sdk-date"])
def test_a_signature_must_cover_the_host_and_date(header: str) -> None:
    signed = sdk_signed(**TRICKY)
    value = (
        signed.header_params["Authorization"].replace(f"{header};", "").replace(f";{header}", "")
    )
    with pytest.raises(signing.SignatureError, match="must include"):
        signing.parse_authorization(value)


# --- Over HTTP, with the SDK ----------------------------------------------------------

pytestmark_db = pytest.mark.django_db(transaction=True)


@pytest.fixture
def key(owner: User) -> tuple[AccessKey, str]:
    return new_access_key(owner)


def refused_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="api.request_refused").order_by("id"))


def assert_refused(call, access_key_id: str, reason: str) -> None:
    before = len(refused_events())
    with pytest.raises(ClientRequestException) as refused:
        call()
    error = refused.value
    assert (error.status_code, error.error_code, error.error_msg) == (
        401,
        "SVCSTG.SWR.4010000",
        "Authentication failed",
    )
    events = refused_events()[before:]
    assert len(events) == 1
    event = events[0]
    assert (event.channel, event.credential_username, event.actor) == ("api", access_key_id, None)
    assert reason in event.detail["reason"]


def secret_call(client):
    return lambda: client.create_secret(CreateSecretRequest())


@pytestmark_db
def test_a_wrong_secret_key_is_refused_and_audited(live_server, key, registry: Registry) -> None:
    access_key, _ = key
    client = swr_client(live_server.url, access_key.access_key_id, "wrong" * 8, registry.project_id)
    assert_refused(secret_call(client), access_key.access_key_id, "does not match")


@pytestmark_db
@pytest.mark.parametrize("minutes", [-16, 16])
def test_a_stale_or_future_date_is_refused_and_audited(
    live_server, key, registry: Registry, minutes: int
) -> None:
    access_key, secret_key = key
    client = swr_client(live_server.url, access_key.access_key_id, secret_key, registry.project_id)
    moment = datetime.now(UTC) + timedelta(minutes=minutes)
    client.preset_headers = {"X-Sdk-Date": moment.strftime("%Y%m%dT%H%M%SZ")}
    assert_refused(secret_call(client), access_key.access_key_id, "too far")
    # Within the window (the SDK signs with the date it is given) it is accepted.
    within = datetime.now(UTC) + timedelta(minutes=minutes * 14 // 16)
    client.preset_headers = {"X-Sdk-Date": within.strftime("%Y%m%dT%H%M%SZ")}
    assert client.create_secret(CreateSecretRequest()).auths


def _tamper_body(request) -> None:
    request.body = request.body.replace(b"ci-bot", b"ci-box")


def _tamper_query(request) -> None:
    request.uri = request.uri.replace("limit=2", "limit=3")


def _tamper_header(request) -> None:
    request.header_params["User-Agent"] = "someone else"


@pytestmark_db
@pytest.mark.parametrize("part", ["body", "query", "signed header"])
def test_a_request_changed_after_signing_is_refused_and_audited(
    live_server, key, registry: Registry, part: str
) -> None:
    access_key, secret_key = key
    change = {"body": _tamper_body, "query": _tamper_query, "signed header": _tamper_header}[part]
    client = swr_client(
        live_server.url,
        access_key.access_key_id,
        secret_key,
        registry.project_id,
        tampering(change),
    )
    instance = str(registry.public_id)
    if part == "query":
        request = ListInstanceLtCredentialsRequest(instance_id=instance, offset=0, limit=2)
        call = lambda: client.list_instance_lt_credentials(request)  # noqa: E731
    else:
        body = CreateLongTermCredentialRequestBody(name="ci-bot")
        request = CreateInstanceLtCredentialRequest(instance_id=instance, body=body)
        call = lambda: client.create_instance_lt_credential(request)  # noqa: E731
    assert_refused(call, access_key.access_key_id, "does not match")
    assert LongTermCredential.objects.count() == 0


@pytestmark_db
def test_a_disabled_or_deleted_key_is_refused_and_audited(
    live_server, key, registry: Registry, owner: User
) -> None:
    access_key, secret_key = key
    client = swr_client(live_server.url, access_key.access_key_id, secret_key, registry.project_id)
    assert client.create_secret(CreateSecretRequest()).auths
    access_key.disable(by=Actor(user=owner))
    assert_refused(secret_call(client), access_key.access_key_id, "disabled")
    access_key.enable(by=Actor(user=owner))
    signing_anew(client)  # else, in the same second, the first call's replay
    assert client.create_secret(CreateSecretRequest()).auths
    access_key.delete_by(by=Actor(user=owner))
    assert_refused(secret_call(client), access_key.access_key_id, "Unknown access key")


@pytestmark_db
def test_refusals_past_the_limit_are_answered_and_audited_once_per_window(
    live_server, key, registry: Registry, settings
) -> None:
    settings.API_AUTH_FAILURES_PER_ACCESS_KEY = "3/15m"
    access_key, secret_key = key
    wrong = swr_client(live_server.url, access_key.access_key_id, "w" * 40, registry.project_id)
    for _ in range(6):
        with pytest.raises(ClientRequestException) as refused:
            wrong.create_secret(CreateSecretRequest())
        assert refused.value.status_code == 401
    # Three checked refusals, then one event for the window from that address (issue 14).
    assert len(refused_events()) == 4
    # The owner's correctly signed requests are not held back by someone else's failures.
    right = swr_client(live_server.url, access_key.access_key_id, secret_key, registry.project_id)
    assert right.create_secret(CreateSecretRequest()).auths


# --- Every path answers JSON ----------------------------------------------------------


def assert_swr_error(response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["error_code"] == f"SVCSTG.SWR.{code}"
    assert body["errors"] == [{"errorCode": body["error_code"], "errorMessage": body["error_msg"]}]


@pytest.mark.parametrize(
    "path", ["/v2/", "/v2/nothing/here", "/v3", "/v3/auth/projects", "/v2/p/instances/i/other"]
)
def test_an_unknown_path_is_a_json_404(client: Client, db: None, path: str) -> None:
    assert_swr_error(client.get(path), 404, "4040000")


def test_a_wrong_method_is_a_json_405(client: Client, registry: Registry) -> None:
    base = f"/v2/{registry.project_id}/instances/{registry.public_id}"
    response = client.post(f"{base}/long-term-credentials")
    assert_swr_error(response, 405, "4050000")
    assert response["Allow"] == "GET"
    assert_swr_error(client.get(f"{base}/long-term-credentials/x"), 405, "4050000")


def test_an_unknown_instance_or_project_is_a_json_404(
    client: Client, owner: User, registry: Registry
) -> None:
    token = client.post(
        "/v3/auth/tokens",
        iam_body("alice", "correct horse battery staple", project=None),  # unscoped
        content_type="application/json",
    )["X-Subject-Token"]
    headers = {"X-Auth-Token": token}
    for base in (
        f"/v2/{registry.project_id}/instances/not-a-uuid",
        f"/v2/{registry.project_id}/instances/{registry.public_id.hex[::-1]}",
        f"/v2/{'0' * 32}/instances/{registry.public_id}",
    ):
        assert_swr_error(
            client.get(f"{base}/long-term-credentials", headers=headers), 404, "4040000"
        )
    listed = client.get(
        f"/v2/{registry.project_id}/instances/{registry.public_id}/long-term-credentials",
        headers=headers,
    )
    assert listed.json() == {"total": 0, "auth_tokens": []}


def test_a_request_without_credentials_is_refused_and_audited(
    client: Client, registry: Registry
) -> None:
    base = f"/v2/{registry.project_id}/instances/{registry.public_id}"
    assert_swr_error(client.get(f"{base}/long-term-credentials"), 401, "4010000")
    assert_swr_error(
        client.get(f"{base}/long-term-credentials", headers={"X-Auth-Token": "forged"}),
        401,
        "4010000",
    )
    reasons = [event.detail["reason"] for event in refused_events()]
    assert reasons == ["no X-Auth-Token or signature", "invalid or expired X-Auth-Token"]
