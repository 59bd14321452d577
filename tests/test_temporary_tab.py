"""The Temporary Credentials tab, with the upstream client talking real HTTP."""

from __future__ import annotations

import base64
import html
import json
import logging
import re
import socket

import pytest
from django.test import Client
from django.urls import reverse
from pytest_httpserver import HTTPServer

from credentials.models import AuditEvent, Registry, TemporaryCredential, User
from tests.fake_swr import HOST, FakeHuawei
from tests.helpers import client_for, every_row_of_every_table

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def builtin(settings) -> None:
    """The default: no upstream configured, the console mints the credentials itself."""
    assert settings.SWR_BUILTIN_API


def generate(client: Client, registry: Registry, kind: str = "image", **headers: str):
    url = reverse("generate_temporary", args=[registry.public_id])
    return client.post(url, {"kind": kind}, headers=headers)


def command_of(response) -> str:
    match = re.search(r'<pre id="temporary-command">(.+?)</pre>', response.content.decode())
    assert match, response.content.decode()[:2000]
    return re.sub(r"<[^>]+>", "", match.group(1))  # the arguments' wrapping spans


def test_the_tab_offers_image_or_chart_and_the_generate_button(
    owner_client: Client, registry: Registry
) -> None:
    page = owner_client.get(reverse("temporary_tab", args=[registry.public_id])).content.decode()
    assert re.search(r'<input type="radio" name="kind" value="image"[^>]*checked', page)
    assert 'value="chart"' in page
    assert ">Generate a temporary access credential</button>" in page
    assert "cannot be disabled or revoked" in page


def test_image_generates_a_docker_login_for_the_registry(
    builtin: None, owner_client: Client, owner: User, registry: Registry
) -> None:
    response = generate(owner_client, registry, "image")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    command = command_of(response)
    match = re.fullmatch(
        rf"docker login -u (cn-north-4@[A-Z0-9]{{20}}) -p ([0-9a-f]{{64}}) {re.escape(registry.address)}",
        command,
    )
    assert match, command
    page = response.content.decode()
    assert 'data-copy="temporary-command">Copy</button>' in page
    assert "kubernetes.io/dockerconfigjson" in page
    username = match.group(1)
    assert TemporaryCredential.objects.get().username == username


def test_chart_generates_a_helm_registry_login(
    builtin: None, owner_client: Client, registry: Registry
) -> None:
    command = command_of(generate(owner_client, registry, "chart"))
    assert re.fullmatch(
        rf"helm registry login {re.escape(registry.address)} --username cn-north-4@[A-Z0-9]{{20}} --password [0-9a-f]{{64}}",
        command,
    ), command


def test_the_config_json_and_secret_are_what_docker_login_and_kubectl_write(
    builtin: None, owner_client: Client, registry: Registry
) -> None:
    response = generate(owner_client, registry)
    _, _, _, username, _, password, _ = command_of(response).split()
    auth = base64.b64encode(f"{username}:{password}".encode()).decode()
    page = html.unescape(response.content.decode())
    config = re.search(r'<pre id="temporary-docker-config">(.+?)</pre>', page, re.S).group(1)
    # docker login's ~/.docker/config.json, byte for byte (Go's MarshalIndent with a tab).
    assert (
        config
        == f'{{\n\t"auths": {{\n\t\t"{registry.address}": {{\n\t\t\t"auth": "{auth}"\n\t\t}}\n\t}}\n}}'
    )
    secret = re.search(r'<pre id="temporary-kubernetes-secret">(.+?)</pre>', page, re.S).group(1)
    encoded = re.search(r"\.dockerconfigjson: (\S+)", secret).group(1)
    # What `kubectl create secret docker-registry swr-default-login --docker-server=HOST
    # --docker-username=U --docker-password=P --dry-run=client -o yaml` prints (kubectl 1.32),
    # less its `creationTimestamp: null`.
    assert base64.b64decode(encoded).decode() == (
        f'{{"auths":{{"{registry.address}":{{"username":"{username}",'
        f'"password":"{password}","auth":"{auth}"}}}}}}'
    )
    assert secret == (
        "apiVersion: v1\n"
        "data:\n"
        f"  .dockerconfigjson: {encoded}\n"
        "kind: Secret\n"
        "metadata:\n"
        "  name: swr-default-login\n"
        "type: kubernetes.io/dockerconfigjson\n"
    )


def test_an_issue_is_audited_without_the_password(
    builtin: None, settings, owner_client: Client, owner: User, registry: Registry
) -> None:
    response = generate(owner_client, registry, "chart", User_Agent="laptop/1")
    password = command_of(response).split()[-1]
    event = AuditEvent.objects.get(action="temporary.issued")
    assert event.actor == owner
    assert event.ip_address == "127.0.0.1"
    assert event.registry == registry
    assert event.detail["kind"] == "chart"
    assert event.detail["upstream"] == "built-in"
    assert event.detail["registry_host"] == registry.address
    assert event.detail["expires_at"]
    minted = TemporaryCredential.objects.get()
    assert (event.credential_username, event.credential_public_id) == (
        minted.username,
        minted.public_id,
    )
    assert AuditEvent.objects.filter(action__startswith="temporary.").count() == 1  # one click
    assert password not in json.dumps(list(AuditEvent.objects.values()), default=str)


def test_the_password_appears_nowhere_in_the_database_or_the_logs(
    builtin: None, owner_client: Client, registry: Registry, caplog: pytest.LogCaptureFixture
) -> None:

    caplog.set_level(logging.DEBUG)
    password = command_of(generate(owner_client, registry)).split()[4]
    dump = every_row_of_every_table()
    assert TemporaryCredential.objects.get().username in dump
    assert password not in dump
    assert caplog.records
    assert password not in caplog.text


def test_an_upstream_failure_shows_its_message_and_records_nothing(
    settings, owner_client: Client, registry: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.SWR_API_URL = f"http://127.0.0.1:{port}"  # remote mode, refusing connections
    settings.SWR_BUILTIN_API = False
    settings.SWR_AUTH_TOKEN = "static-token"
    response = generate(owner_client, registry, HX_Request="true")
    assert response.status_code == 502
    page = response.content.decode()
    assert page.strip().startswith('<div id="temporary-result"')
    # Said in the user's terms, with what to do next; the address only in the log.
    assert "SWR could not be reached just now. Try again in a minute" in page
    assert "tell your administrator" in page
    assert "127.0.0.1" not in page
    assert str(port) not in page
    assert "No temporary credential was issued." in page
    assert f"127.0.0.1:{port}: connection refused" in caplog.text
    assert not AuditEvent.objects.filter(action="temporary.issued").exists()


def test_an_invalid_kind_is_refused(
    builtin: None, owner_client: Client, registry: Registry
) -> None:
    assert generate(owner_client, registry, "helmet").status_code == 422
    assert TemporaryCredential.objects.count() == 0


def test_generation_is_rate_limited_per_user(
    builtin: None, settings, owner_client: Client, other_user: User, registry: Registry
) -> None:
    settings.TEMPORARY_CREDENTIALS_PER_MINUTE = 2
    assert generate(owner_client, registry).status_code == 200
    assert generate(owner_client, registry).status_code == 200
    refused = generate(owner_client, registry)
    assert refused.status_code == 429
    assert "You can generate at most 2 temporary credentials a minute" in refused.content.decode()
    assert TemporaryCredential.objects.count() == 2
    assert generate(client_for(other_user), registry).status_code == 200


def test_generate_is_post_only_and_needs_csrf(owner: User, registry: Registry) -> None:
    url = reverse("generate_temporary", args=[registry.public_id])
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.get(url).status_code == 405
    assert client.post(url, {"kind": "image"}).status_code == 403


def use_remote_upstream(settings, fake: FakeHuawei, password: str | None = None) -> None:
    """Point the console at `fake` as its SWR and IAM APIs (the remote mode)."""
    settings.SWR_API_URL = settings.SWR_IAM_URL = fake.url
    settings.SWR_BUILTIN_API = False
    settings.SWR_IAM_DOMAIN, settings.SWR_IAM_USER = fake.domain, fake.user
    settings.SWR_IAM_PASSWORD = fake.password if password is None else password


def test_the_remote_mode_works_against_a_separate_server(
    settings, httpserver: HTTPServer, owner_client: Client, registry: Registry
) -> None:
    fake = FakeHuawei(httpserver).install()
    use_remote_upstream(settings, fake)

    first = command_of(generate(owner_client, registry))
    assert re.fullmatch(rf"docker login -u cn-north-4@\w+ -p [0-9a-f]{{64}} {HOST}", first)
    chart = command_of(generate(owner_client, registry, "chart"))
    assert chart.startswith(f"helm registry login {HOST} --username cn-north-4@")
    assert fake.iam_calls == 1
    assert fake.projects == [registry.project_name, registry.project_name]
    assert TemporaryCredential.objects.count() == 0  # minted upstream, not here
    event = AuditEvent.objects.filter(action="temporary.issued").first()
    assert event.detail["upstream"] == f"{httpserver.host}:{httpserver.port}"


def test_remote_mode_reports_wrong_iam_credentials(
    settings, httpserver: HTTPServer, owner_client: Client, registry: Registry
) -> None:
    fake = FakeHuawei(httpserver).install()
    use_remote_upstream(settings, fake, password="wrong")
    response = generate(owner_client, registry)
    assert response.status_code == 502
    page = response.content.decode()
    assert "SWR did not accept the console&#x27;s own account. Trying again will not help" in page
    assert httpserver.host not in page
