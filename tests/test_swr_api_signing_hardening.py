"""What an access key's signature must cover, and how often it is accepted (issue 23, items 5
and 6). A signed write is accepted once, for the whole time its X-Sdk-Date would pass;
X-Project-Id, X-Subject-Token and (with a body) Content-Type must be signed when sent; a signed
request may not repeat a query parameter. Each refusal is Huawei's 401 body saying why, audited.
The requests are signed by the SDK's own Signer (tests/huawei_sdk.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from huaweicloudsdkcore.sdk_request import SdkRequest

from credentials.models import (
    AccessKey,
    AuditEvent,
    LongTermCredential,
    Registry,
    TemporaryCredential,
    User,
)
from tests.helpers import iam_body, new_access_key
from tests.huawei_sdk import sign

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
SKEW = timedelta(minutes=15)  # API_SIGNATURE_MAX_SKEW_MINUTES, Huawei's window
REPLAYED = (
    "This signed request was already received: each signed write is accepted once; sign it again"
)


@pytest.fixture
def key(owner: User) -> tuple[AccessKey, str]:
    return new_access_key(owner)


@pytest.fixture
def elsewhere(registry: Registry) -> Registry:
    """A registry of another project of the same account."""
    return Registry.objects.create(
        region=registry.region,
        name="elsewhere",
        address="elsewhere.example.test",
        project_name="other-project",
    )


def instance_path(registry: Registry, operation: str) -> str:
    return f"/v2/{registry.project_id}/instances/{registry.public_id}/{operation}"


def signed_by(key: tuple[AccessKey, str], method: str, path: str, **options) -> SdkRequest:
    access_key, secret_key = key
    return sign(access_key.access_key_id, secret_key, method, path, **options)


def send(
    client: Client,
    signed: SdkRequest,
    *,
    query: str | None = None,
    unsigned: dict[str, str] | None = None,
):
    """`signed` as the SDK sends it; `query` replaces its query string as sent, `unsigned`
    headers are added after signing."""
    path, _, signed_query = signed.uri.partition("?")
    query = signed_query if query is None else query
    headers = {**signed.header_params, **(unsigned or {})}
    return client.generic(
        signed.method,
        f"{path}?{query}" if query else path,
        data=signed.body or b"",
        content_type=headers.get("Content-Type", ""),
        headers=headers,
    )


def assert_refused(response, message: str, reason: str) -> None:
    assert response.status_code == 401, response.content
    body = response.json()
    assert (body["error_code"], body["error_msg"]) == ("SVCSTG.SWR.4010000", message)
    assert body["errors"] == [{"errorCode": "SVCSTG.SWR.4010000", "errorMessage": message}]
    event = AuditEvent.objects.filter(action="api.request_refused").latest("id")
    assert reason in event.detail["reason"]


# --- Item 5: a signed write is accepted once --------------------------------------------


@pytest.mark.parametrize("dated", [timedelta(0), timedelta(minutes=14)], ids=["now", "ahead"])
def test_a_signed_write_sent_again_is_refused_for_as_long_as_its_date_would_pass(
    client: Client, key, registry: Registry, time_machine, dated: timedelta
) -> None:
    time_machine.move_to(T0, tick=False)
    signed = signed_by(key, "POST", instance_path(registry, "temp-credential"), at=T0 + dated)
    assert send(client, signed).status_code == 201
    # 8.4 minutes later (the report's), then the last second its date still passes.
    for later in (timedelta(minutes=8.4), dated + SKEW):
        time_machine.move_to(T0 + later, tick=False)
        assert_refused(send(client, signed), REPLAYED, "replay")
    time_machine.move_to(T0 + dated + SKEW + timedelta(seconds=1), tick=False)
    assert_refused(send(client, signed), "Authentication failed", "too far")
    assert TemporaryCredential.objects.count() == 1


def test_each_signed_write_is_accepted_once_and_another_signed_anew_is_accepted(
    client: Client, key, registry: Registry, time_machine
) -> None:
    time_machine.move_to(T0, tick=False)
    path = instance_path(registry, "long-term-credential")
    first = signed_by(key, "POST", path, body=b'{"name": "ci-1"}', at=T0)
    assert send(client, first).status_code == 201
    assert_refused(send(client, first), REPLAYED, "replay")
    # The same operation signed again a second later is another signature.
    time_machine.move_to(T0 + timedelta(seconds=1), tick=False)
    again = signed_by(key, "POST", path, body=b'{"name": "ci-2"}')
    assert send(client, again).status_code == 201
    assert sorted(LongTermCredential.objects.values_list("name", flat=True)) == ["ci-1", "ci-2"]


def test_a_signed_read_may_be_sent_again_within_its_window(
    client: Client, key, registry: Registry
) -> None:
    signed = signed_by(key, "GET", instance_path(registry, "long-term-credentials"))
    answers = [send(client, signed) for _ in range(2)]
    assert [answer.status_code for answer in answers] == [200, 200]
    assert answers[1].json() == {"total": 0, "auth_tokens": []}


# --- Item 6: the signature covers what gives the request its meaning ---------------------


def test_an_unsigned_project_id_is_refused_not_answered_with_another_projects_login(
    client: Client, key, registry: Registry, elsewhere: Registry
) -> None:
    signed = signed_by(key, "POST", "/v2/manage/utils/secret")
    response = send(client, signed, unsigned={"X-Project-Id": elsewhere.project_id})
    assert_refused(response, "X-Project-Id must be signed: add it to SignedHeaders", "X-Project")
    assert TemporaryCredential.objects.count() == 0
    # Signed, it names the project, as the SDK sends it.
    signed = signed_by(
        key, "POST", "/v2/manage/utils/secret", headers={"X-Project-Id": elsewhere.project_id}
    )
    assert list(send(client, signed).json()["auths"]) == [elsewhere.address]


def test_an_unsigned_subject_token_is_refused(client: Client, key, owner: User) -> None:
    created = client.post("/v3/auth/tokens", iam_body(), content_type="application/json")
    signed = signed_by(key, "GET", "/v3/auth/tokens")
    response = send(client, signed, unsigned={"X-Subject-Token": created["X-Subject-Token"]})
    assert_refused(
        response, "X-Subject-Token must be signed: add it to SignedHeaders", "X-Subject-Token"
    )


def test_an_unsigned_content_type_is_refused_when_there_is_a_body(
    client: Client, key, registry: Registry
) -> None:
    signed = signed_by(
        key,
        "POST",
        instance_path(registry, "long-term-credential"),
        headers={"Content-Type": None},
        body=b'{"name": "ci"}',
    )
    response = send(client, signed, unsigned={"Content-Type": "application/json"})
    assert_refused(response, "Content-Type must be signed: add it to SignedHeaders", "Content")
    assert LongTermCredential.objects.count() == 0


def test_an_unsigned_content_type_without_a_body_changes_nothing_and_is_accepted(
    client: Client, key, registry: Registry
) -> None:
    # Django's runserver gives every request one (text/plain) when the client sent none.
    signed = signed_by(
        key, "POST", instance_path(registry, "temp-credential"), headers={"Content-Type": None}
    )
    assert send(client, signed, unsigned={"Content-Type": "text/plain"}).status_code == 201


@pytest.mark.parametrize(
    "query", ["self_only=true&self_only=false", "self_only=false&self_only=true"]
)
def test_a_repeated_query_parameter_is_refused_in_either_order(
    client: Client, key, registry: Registry, query: str
) -> None:
    # The signature sorts both values; Django would read the last one.
    signed = signed_by(
        key,
        "GET",
        instance_path(registry, "long-term-credentials"),
        query=[("self_only", ["true", "false"])],
    )
    response = send(client, signed, query=query)
    assert_refused(response, "A signed request may not repeat a query parameter", "repeat")
