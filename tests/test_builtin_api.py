"""The built-in IAM and SWR endpoints answer exactly the documented contracts."""

from __future__ import annotations

import base64
import json
import re
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client, override_settings

from credentials.models import (
    AuditEvent,
    Registry,
    TemporaryCredential,
    User,
    digest_password,
    project_id_for,
)
from tests.helpers import iam_body


def get_token(client: Client, **kwargs: str):
    return client.post("/v3/auth/tokens", iam_body(**kwargs), content_type="application/json")


def swr_error(response, status: int, code: str) -> None:
    assert response.status_code == status
    body = response.json()
    assert body["error_code"] == f"SVCSTG.SWR.{code}"
    assert body["error_msg"]
    assert body["errors"] == [{"errorCode": body["error_code"], "errorMessage": body["error_msg"]}]


def test_iam_issues_a_token_in_the_subject_header(client: Client, owner: User) -> None:
    response = get_token(client)
    assert response.status_code == 201
    assert response["X-Subject-Token"]
    expires = datetime.fromisoformat(response.json()["token"]["expires_at"].replace("Z", "+00:00"))
    assert abs(expires - (datetime.now(UTC) + timedelta(hours=24))) < timedelta(minutes=1)
    event = AuditEvent.objects.get(action="console.sign_in")
    assert (event.actor, event.channel, event.detail["path"]) == (owner, "api", "/v3/auth/tokens")
    assert response.json()["token"]["project"] == {
        "name": "cn-north-4",
        "id": project_id_for("cn-north-4"),
    }


@pytest.mark.parametrize(
    "kwargs", [{"password": "wrong"}, {"username": "nobody"}, {"password": ""}]
)
def test_iam_refuses_bad_credentials_with_an_swr_error(
    client: Client, owner: User, kwargs: dict
) -> None:
    response = get_token(client, **kwargs)
    if kwargs.get("password") == "":
        swr_error(response, 400, "4001036")
    else:
        swr_error(response, 401, "4010000")
    assert "X-Subject-Token" not in response
    failed = AuditEvent.objects.filter(action="console.sign_in_failed")
    assert list(failed.values_list("channel", flat=True)) == (
        [] if kwargs.get("password") == "" else ["api"]
    )


def test_iam_refuses_an_inactive_user(client: Client, owner: User) -> None:
    owner.is_active = False
    owner.save()
    swr_error(get_token(client), 401, "4010000")


@override_settings(SWR_BUILTIN_IAM_DOMAIN="acme")
def test_iam_accepts_only_the_configured_account_when_one_is_named(
    client: Client, owner: User
) -> None:
    assert get_token(client, domain="acme").status_code == 201
    swr_error(get_token(client, domain="other"), 401, "4010000")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{}", "application/json"),
        ("not json", "application/json"),
        ('{"auth": 1}', "application/json"),
        ("{}", "text/plain"),
    ],
)
def test_iam_refuses_a_malformed_request(
    client: Client, db: None, body: str, content_type: str
) -> None:
    swr_error(client.post("/v3/auth/tokens", body, content_type=content_type), 400, "4001036")


def secret(
    client: Client,
    token: str | None,
    project: str = "cn-north-4",
    content_type: str = "application/json",
):
    headers = {"X-Auth-Token": token} if token is not None else {}
    return client.post(
        f"/v2/manage/utils/secret?projectname={project}", content_type=content_type, headers=headers
    )


def test_secret_answers_the_documented_headers_and_body(
    client: Client, owner: User, registry: Registry
) -> None:
    token = get_token(client)["X-Subject-Token"]
    response = secret(client, token)
    assert response.status_code == 200
    command = response["X-Swr-Dockerlogin"]
    match = re.fullmatch(
        r"docker login -u (cn-north-4@[A-Z0-9]{20}) -p ([0-9a-f]{64}) (\S+)", command
    )
    assert match, command
    username, password, host = match.groups()
    assert host == registry.address
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", response["X-Swr-Expireat"])
    body = response.json()
    assert list(body) == ["auths"]
    assert (
        base64.b64decode(body["auths"][registry.address]["auth"]).decode()
        == f"{username}:{password}"
    )

    stored = TemporaryCredential.objects.get()
    assert stored.username == username
    assert stored.user == owner
    assert stored.password_digest == digest_password(password)
    assert password not in json.dumps(list(TemporaryCredential.objects.values()), default=str)
    assert (
        AuditEvent.objects.filter(
            action="temporary.issued", credential_username=username, channel="api"
        ).count()
        == 1
    )


def test_secret_lists_every_registry_of_the_project(
    client: Client, owner: User, registry: Registry, other_registry: Registry
) -> None:
    token = get_token(client)["X-Subject-Token"]
    assert set(secret(client, token).json()["auths"]) == {registry.address, other_registry.address}


def test_secret_requires_a_valid_token(client: Client, owner: User, registry: Registry) -> None:
    swr_error(secret(client, None), 401, "4010000")
    swr_error(secret(client, "forged"), 401, "4010000")
    assert TemporaryCredential.objects.count() == 0


def test_a_password_change_ends_the_users_iam_tokens(
    client: Client, owner: User, registry: Registry
) -> None:
    token = get_token(client)["X-Subject-Token"]
    owner.set_password("a new password entirely")
    owner.save()
    swr_error(secret(client, token), 401, "4010000")


def test_secret_refuses_a_project_with_no_registry(
    client: Client, owner: User, registry: Registry
) -> None:
    body = iam_body()
    body["auth"]["scope"]["project"]["name"] = "nowhere"
    token = client.post("/v3/auth/tokens", body, content_type="application/json")["X-Subject-Token"]
    swr_error(secret(client, token, project="nowhere"), 400, "4001025")


def test_secret_requires_json_content_type(client: Client, owner: User, registry: Registry) -> None:
    token = get_token(client)["X-Subject-Token"]
    swr_error(secret(client, token, content_type="text/plain"), 400, "4001036")


def test_a_method_the_path_does_not_take_is_a_json_405(client: Client, db: None) -> None:
    for path in ("/v2/manage/utils/secret", "/v2/manage/utils/authorizationtoken"):
        response = client.get(path)
        swr_error(response, 405, "4050000")
        assert response["Allow"] == "POST"
    swr_error(client.delete("/v3/auth/tokens"), 405, "4050000")


@override_settings(SWR_BUILTIN_API=False)
def test_the_built_in_api_is_off_when_a_real_upstream_is_configured(
    client: Client, owner: User
) -> None:
    swr_error(get_token(client), 404, "4040000")


def _curl(*args: str) -> tuple[int, dict[str, str], str]:
    result = subprocess.run(
        ["curl", "-sS", "-i", "--max-time", "20", *args], capture_output=True, text=True, check=True
    )
    head, _, body = result.stdout.replace("\r\n", "\n").partition("\n\n")
    status_line, *header_lines = head.split("\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in header_lines)}
    return int(status_line.split()[1]), headers, body


@pytest.mark.django_db(transaction=True)
def test_curl_gets_a_token_and_a_secret_over_http(
    live_server, owner: User, registry: Registry
) -> None:
    status, headers, body = _curl(
        "-X",
        "POST",
        f"{live_server.url}/v3/auth/tokens",
        "-H",
        "Content-Type: application/json;charset=utf8",
        "-d",
        json.dumps(iam_body()),
    )
    assert status == 201
    token = headers["x-subject-token"]
    assert "expires_at" in json.loads(body)["token"]

    status, headers, body = _curl(
        "-X",
        "POST",
        f"{live_server.url}/v2/manage/utils/secret?projectname=cn-north-4",
        "-H",
        "Content-Type: application/json",
        "-H",
        f"X-Auth-Token: {token}",
    )
    assert status == 200
    assert headers["x-swr-dockerlogin"].startswith("docker login -u cn-north-4@")
    assert headers["x-swr-expireat"].endswith("Z")
    assert list(json.loads(body)["auths"]) == [registry.address]

    status, headers, body = _curl(
        "-X",
        "POST",
        f"{live_server.url}/v2/manage/utils/secret",
        "-H",
        "Content-Type: application/json",
        "-H",
        "X-Auth-Token: expired",
    )
    assert status == 401
    assert json.loads(body)["error_code"] == "SVCSTG.SWR.4010000"


def test_iam_refuses_a_lone_surrogate_in_the_body_with_a_json_400(client: Client, db: None) -> None:
    body = json.dumps(iam_body(password="\ud800"))  # ASCII: the escape stays in the text
    assert "\\ud800" in body
    swr_error(client.post("/v3/auth/tokens", body, content_type="application/json"), 400, "4001036")


@pytest.mark.parametrize(
    "content_type",
    ["application/json; charset=utf-16", "application/x-www-form-urlencoded; charset=utf-16"],
)
def test_iam_refuses_a_body_in_another_charset_with_a_json_400(
    client: Client, owner: User, content_type: str
) -> None:
    body = json.dumps(iam_body())  # the test client encodes it in the charset named
    response = client.post("/v3/auth/tokens", body, content_type=content_type)
    assert response["Content-Type"].startswith("application/json")
    swr_error(response, 400, "4001036")
