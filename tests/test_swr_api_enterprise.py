"""SWR Enterprise credential operations with an X-Auth-Token: bad input is a 400 that changes
nothing, others' credentials are 404, federated users are refused as on the console."""

from __future__ import annotations

import pytest
from django.test import Client

from credentials.models import Actor, AuditEvent, LongTermCredential, Registry, User
from tests.helpers import PASSWORD, iam_body


def token_for(client: Client, username: str, project: str = "cn-north-4") -> dict[str, str]:
    body = iam_body(username, PASSWORD, project=project)
    response = client.post("/v3/auth/tokens", body, content_type="application/json")
    assert response.status_code == 201
    return {"X-Auth-Token": response["X-Subject-Token"]}


def base(registry: Registry) -> str:
    return f"/v2/{registry.project_id}/instances/{registry.public_id}"


def assert_error(response, status: int, code: str) -> str:
    assert response.status_code == status, response.content
    assert response.json()["error_code"] == f"SVCSTG.SWR.{code}"
    return response.json()["error_msg"]


@pytest.mark.parametrize(
    "query",
    ["limit=101", "limit=0", "limit=x", "offset=-1", "offset=1.5", "self_only=maybe"],
)
def test_a_bad_list_parameter_is_a_400(
    client: Client, owner: User, registry: Registry, query: str
) -> None:
    response = client.get(
        f"{base(registry)}/long-term-credentials?{query}", headers=token_for(client, "alice")
    )
    assert_error(response, 400, "4001036")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"name": 1}', "application/json"),
        ("{}", "application/json"),
        ("[]", "application/json"),
        ("not json", "application/json"),
        ('{"name": "ci-bot"}', "text/plain"),
        ('{"name": "' + "a" * 65 + '"}', "application/json"),
    ],
)
def test_a_bad_create_body_is_a_400_and_creates_nothing(
    client: Client, owner: User, registry: Registry, body: str, content_type: str
) -> None:
    response = client.post(
        f"{base(registry)}/long-term-credential",
        body,
        content_type=content_type,
        headers=token_for(client, "alice"),
    )
    assert_error(response, 400, "4001036")
    assert LongTermCredential.objects.count() == 0


@pytest.mark.parametrize("body", ['{"enable": "false"}', "{}", '{"enable": null}'])
def test_a_bad_update_body_is_a_400_and_changes_nothing(
    client: Client, owner: User, registry: Registry, body: str
) -> None:
    credential, _ = LongTermCredential.objects.create_for(
        owner=owner, registry=registry, name="ci", by=Actor(user=owner)
    )
    response = client.put(
        f"{base(registry)}/long-term-credentials/{credential.public_id}",
        body,
        content_type="application/json",
        headers=token_for(client, "alice"),
    )
    assert_error(response, 400, "4001036")
    credential.refresh_from_db()
    assert credential.is_enabled is True


def test_another_users_credential_is_a_404(
    client: Client, owner: User, other_user: User, registry: Registry
) -> None:
    credential, _ = LongTermCredential.objects.create_for(
        owner=owner, registry=registry, name="ci", by=Actor(user=owner)
    )
    headers = token_for(client, "bob")
    url = f"{base(registry)}/long-term-credentials/{credential.public_id}"
    update = client.put(url, '{"enable": false}', content_type="application/json", headers=headers)
    assert_error(update, 404, "4040000")
    assert_error(client.delete(url, headers=headers), 404, "4040000")
    assert_error(
        client.delete(f"{base(registry)}/long-term-credentials/not-an-id", headers=headers),
        404,
        "4040000",
    )
    credential.refresh_from_db()
    assert credential.is_enabled is True


def test_a_federated_user_is_refused_a_long_term_credential_but_gets_a_temporary_one(
    client: Client, federated_user: User, registry: Registry
) -> None:
    headers = token_for(client, "fiona")
    response = client.post(
        f"{base(registry)}/long-term-credential",
        '{"name": "ci-bot"}',
        content_type="application/json",
        headers=headers,
    )
    assert "Federated users cannot" in assert_error(response, 403, "4030170")
    assert LongTermCredential.objects.count() == 0
    temporary = client.post(
        f"{base(registry)}/temp-credential", content_type="application/json", headers=headers
    )
    assert temporary.status_code == 201
    event = AuditEvent.objects.get(action="temporary.issued")
    assert (event.actor, event.channel) == (federated_user, "api")


def test_the_per_registry_limit_holds(
    client: Client, owner: User, registry: Registry, settings
) -> None:
    settings.LONG_TERM_CREDENTIALS_PER_REGISTRY = 1
    headers = token_for(client, "alice")
    url = f"{base(registry)}/long-term-credential"
    first = client.post(url, '{"name": "one"}', content_type="application/json", headers=headers)
    assert first.status_code == 201
    second = client.post(url, '{"name": "two"}', content_type="application/json", headers=headers)
    assert "already have 1 long-term credentials" in assert_error(second, 400, "4001036")
    assert LongTermCredential.objects.count() == 1


def test_a_token_scoped_to_another_project_is_refused(
    client: Client, owner: User, registry: Registry
) -> None:
    headers = token_for(client, "alice", project="another-project")
    response = client.get(f"{base(registry)}/long-term-credentials", headers=headers)
    assert_error(response, 403, "4030170")
    created = client.post(
        f"{base(registry)}/long-term-credential",
        '{"name": "ci"}',
        content_type="application/json",
        headers=headers,
    )
    assert_error(created, 403, "4030170")
    assert LongTermCredential.objects.count() == 0


def test_an_unexpected_error_is_a_json_500(
    client: Client, owner: User, registry: Registry, monkeypatch
) -> None:
    headers = token_for(client, "alice")

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(LongTermCredential.objects.__class__, "in_registry", broken)
    response = client.get(f"{base(registry)}/long-term-credentials", headers=headers)
    assert "Internal error" in assert_error(response, 500, "5000000")
    assert "a bug" not in response.content.decode()


def test_a_token_is_validated_by_its_user_or_staff_only(
    client: Client, owner: User, other_user: User, staff_user: User
) -> None:
    alices = token_for(client, "alice")["X-Auth-Token"]
    for caller, status in (("alice", 200), ("bob", 403), ("sam", 200)):
        headers = token_for(client, caller) | {"X-Subject-Token": alices}
        response = client.get("/v3/auth/tokens", headers=headers)
        assert response.status_code == status, (caller, response.content)
        if status == 200:
            assert response.json()["token"]["user"]["name"] == "alice"
            assert response["X-Subject-Token"] == alices


def test_a_body_past_the_upload_limit_is_a_json_400(
    client: Client, owner: User, registry: Registry, settings
) -> None:
    headers = token_for(client, "alice")
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"name": "ci", "padding": "' + "x" * 2000 + '"}'
    response = client.post(
        f"{base(registry)}/long-term-credential", body, content_type="application/json",
        headers=headers,
    )  # fmt: skip
    assert_error(response, 400, "4001036")
    assert LongTermCredential.objects.count() == 0


def test_expire_date_carries_the_expiry_or_minus_one_for_never(
    client: Client, owner: User, registry: Registry, settings
) -> None:
    headers = token_for(client, "alice")
    url = f"{base(registry)}/long-term-credential"
    never = client.post(url, '{"name": "never"}', content_type="application/json", headers=headers)
    assert never.json()["expire_date"] == "-1"
    settings.LONG_TERM_MAX_DAYS = 30
    capped = client.post(
        url, '{"name": "capped"}', content_type="application/json", headers=headers
    )
    stored = LongTermCredential.objects.get(name="capped")
    assert stored.expires_at is not None
    expiry = stored.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert capped.json()["expire_date"] == expiry
    listed = client.get(f"{base(registry)}/long-term-credentials", headers=headers).json()
    assert {t["name"]: t["expire_date"] for t in listed["auth_tokens"]} == {
        "capped": expiry,
        "never": "-1",
    }
