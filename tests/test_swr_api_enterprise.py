"""SWR Enterprise credential operations with an X-Auth-Token: bad input is a 400 that changes
nothing, others' credentials are 404, federated users are refused as on the console."""

from __future__ import annotations

import pytest
from django.test import Client

from credentials.models import Actor, AuditEvent, LongTermCredential, Registry, User
from tests.helpers import PASSWORD, iam_body, make_credential


def token_for(client: Client, username: str, project: str = "cn-north-4") -> dict[str, str]:
    body = iam_body(username, PASSWORD, project=project)
    response = client.post("/v3/auth/tokens", body, content_type="application/json")
    assert response.status_code == 201
    return {"X-Auth-Token": response["X-Subject-Token"]}


@pytest.fixture
def alices_token(client: Client, owner: User) -> dict[str, str]:
    """The owner's (alice's) X-Auth-Token header, scoped to project cn-north-4."""
    return token_for(client, "alice")


def base(registry: Registry) -> str:
    return f"/v2/{registry.project_id}/instances/{registry.public_id}"


def post_create(
    client: Client,
    registry: Registry,
    body: str,
    headers: dict[str, str],
    content_type: str = "application/json",
):
    """SWR Enterprise's create: POST {base}/long-term-credential."""
    url = f"{base(registry)}/long-term-credential"
    return client.post(url, body, content_type=content_type, headers=headers)


def assert_error(response, status: int, code: str) -> str:
    assert response.status_code == status, response.content
    assert response.json()["error_code"] == f"SVCSTG.SWR.{code}"
    return response.json()["error_msg"]


@pytest.mark.parametrize(
    "query",
    ["limit=101", "limit=0", "limit=x", "offset=-1", "offset=1.5", "self_only=maybe"],
)
def test_a_bad_list_parameter_is_a_400(
    client: Client, alices_token: dict[str, str], registry: Registry, query: str
) -> None:
    response = client.get(f"{base(registry)}/long-term-credentials?{query}", headers=alices_token)
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
    client: Client, alices_token: dict[str, str], registry: Registry, body: str, content_type: str
) -> None:
    response = post_create(client, registry, body, alices_token, content_type)
    assert_error(response, 400, "4001036")
    assert LongTermCredential.objects.count() == 0


def test_a_refused_name_is_named_character_by_character(
    client: Client, alices_token: dict[str, str], registry: Registry
) -> None:
    response = post_create(client, registry, '{"name": "Bad Name!"}', alices_token)
    message = assert_error(response, 400, "4001036")
    assert message.startswith("The name contains “B”, “N”, a space, “!”.")
    assert LongTermCredential.objects.count() == 0


@pytest.mark.parametrize("body", ['{"enable": "false"}', "{}", '{"enable": null}'])
def test_a_bad_update_body_is_a_400_and_changes_nothing(
    client: Client, owner: User, alices_token: dict[str, str], registry: Registry, body: str
) -> None:
    credential = make_credential(owner, registry, "ci")
    response = client.put(
        f"{base(registry)}/long-term-credentials/{credential.public_id}",
        body,
        content_type="application/json",
        headers=alices_token,
    )
    assert_error(response, 400, "4001036")
    credential.refresh_from_db()
    assert credential.is_enabled is True


def test_the_owner_cannot_enable_a_credential_an_administrator_disabled(
    client: Client, owner: User, staff_user: User, alices_token: dict[str, str], registry: Registry
) -> None:
    credential = make_credential(owner, registry, "ci")
    credential.disable(by=Actor(user=staff_user), reason="leaked", administrator=True)
    url = f"{base(registry)}/long-term-credentials/{credential.public_id}"

    def put(body: str):
        return client.put(url, body, content_type="application/json", headers=alices_token)

    assert put('{"enable": false}').status_code == 200  # already disabled: nothing changes
    message = assert_error(put('{"enable": true}'), 400, "4001036")
    assert "Only an administrator can enable it again." in message
    credential.refresh_from_db()
    assert (credential.is_enabled, credential.disabled_by_administrator) == (False, True)


def test_another_users_credential_is_a_404(
    client: Client, owner: User, other_user: User, registry: Registry
) -> None:
    credential = make_credential(owner, registry, "ci")
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
    response = post_create(client, registry, '{"name": "ci-bot"}', headers)
    assert "Federated users cannot" in assert_error(response, 403, "4030170")
    assert LongTermCredential.objects.count() == 0
    temporary = client.post(
        f"{base(registry)}/temp-credential", content_type="application/json", headers=headers
    )
    assert temporary.status_code == 201
    event = AuditEvent.objects.get(action="temporary.issued")
    assert (event.actor, event.channel) == (federated_user, "api")


def test_the_per_registry_limit_holds(
    client: Client, alices_token: dict[str, str], registry: Registry, settings
) -> None:
    settings.LONG_TERM_CREDENTIALS_PER_REGISTRY = 1
    first = post_create(client, registry, '{"name": "one"}', alices_token)
    assert first.status_code == 201
    second = post_create(client, registry, '{"name": "two"}', alices_token)
    assert "already have 1 long-term credentials" in assert_error(second, 400, "4001036")
    assert LongTermCredential.objects.count() == 1


def test_a_token_scoped_to_another_project_is_refused(
    client: Client, owner: User, registry: Registry
) -> None:
    headers = token_for(client, "alice", project="another-project")
    response = client.get(f"{base(registry)}/long-term-credentials", headers=headers)
    assert_error(response, 403, "4030170")
    assert_error(post_create(client, registry, '{"name": "ci"}', headers), 403, "4030170")
    assert LongTermCredential.objects.count() == 0


def test_an_unexpected_error_is_a_json_500(
    client: Client, alices_token: dict[str, str], registry: Registry, monkeypatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(LongTermCredential.objects.__class__, "in_registry", broken)
    response = client.get(f"{base(registry)}/long-term-credentials", headers=alices_token)
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
    client: Client, alices_token: dict[str, str], registry: Registry, settings
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"name": "ci", "padding": "' + "x" * 2000 + '"}'
    assert_error(post_create(client, registry, body, alices_token), 400, "4001036")
    assert LongTermCredential.objects.count() == 0


def test_expire_date_carries_the_expiry_or_minus_one_for_never(
    client: Client, alices_token: dict[str, str], registry: Registry, settings
) -> None:
    never = post_create(client, registry, '{"name": "never"}', alices_token)
    assert never.json()["expire_date"] == "-1"
    settings.LONG_TERM_MAX_DAYS = 30
    capped = post_create(client, registry, '{"name": "capped"}', alices_token)
    stored = LongTermCredential.objects.get(name="capped")
    assert stored.expires_at is not None
    expiry = stored.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert capped.json()["expire_date"] == expiry
    listed = client.get(f"{base(registry)}/long-term-credentials", headers=alices_token).json()
    assert {t["name"]: t["expire_date"] for t in listed["auth_tokens"]} == {
        "capped": expiry,
        "never": "-1",
    }
