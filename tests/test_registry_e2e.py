"""End to end: Debian's docker-registry trusts the console's token service; skopeo logs in,
pushes and pulls with what the console issued, and stops the moment a credential is refused."""

from __future__ import annotations

import base64
import csv
import datetime
import html
import io
import re
import time
from pathlib import Path

import jwt
import pytest
import requests
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from credentials.models import Registry, TemporaryCredential, User
from credentials.rules import EDIT
from tests.helpers import client_for, new_access_key, permit
from tests.oidc_provider import sign_in, use_provider
from tests.registry import (
    RunningRegistry,
    Skopeo,
    assert_ok,
    assert_unauthorized,
    build_oci_image,
    create_long_term,
    generate_temporary,
    operate,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _owner_may_push_in_team(registry_in_console: Registry, owner: User) -> None:
    """The owner holds Edit on organization `team`, where these tests push."""
    permit(registry_in_console, "team", EDIT, user=owner)


def test_a_long_term_credential_logs_in_pushes_pulls_and_stops_when_refused(
    docker_registry: RunningRegistry, registry_in_console: Registry, owner: User, tmp_path: Path
) -> None:
    console = client_for(owner)
    username, password = create_long_term(console, registry_in_console, "ci-bot")
    skopeo = Skopeo(tmp_path)
    layout = tmp_path / "image"
    digest = build_oci_image(layout)
    reference = f"{docker_registry.address}/team/app:v1"

    assert_ok(skopeo.login(docker_registry.address, username, password))
    assert_ok(skopeo.push(layout, reference))
    pulled = tmp_path / "pulled"
    assert_ok(skopeo.pull(reference, pulled))
    assert digest in (pulled / "index.json").read_text()

    operate(console, registry_in_console, "disable", username)
    assert_unauthorized(skopeo.login(docker_registry.address, username, password))

    operate(console, registry_in_console, "enable", username)
    assert_ok(skopeo.login(docker_registry.address, username, password))
    assert_ok(skopeo.pull(reference, tmp_path / "again"))

    operate(console, registry_in_console, "delete", username)
    assert_unauthorized(skopeo.login(docker_registry.address, username, password))


def test_a_built_in_temporary_credential_pushes_until_it_expires(
    docker_registry: RunningRegistry,
    registry_in_console: Registry,
    owner: User,
    tmp_path: Path,
    settings,
    live_server,
) -> None:
    response = client_for(owner).post(
        reverse("generate_temporary", args=[registry_in_console.public_id]), {"kind": "image"}
    )
    assert response.status_code == 200
    command = response.content.decode().split('<pre id="temporary-command">')[1].split("</pre>")[0]
    command = re.sub(r"<[^>]+>", "", command)  # the arguments' wrapping spans
    _, _, _, username, _, password, host = command.split()
    assert host == docker_registry.address

    skopeo = Skopeo(tmp_path)
    layout = tmp_path / "image"
    build_oci_image(layout)
    assert_ok(skopeo.login(host, username, password))
    # The config.json the console shows is the file a login writes (skopeo's is docker's).
    page = html.unescape(response.content.decode())
    shown = page.split('<pre id="temporary-docker-config">')[1].split("</pre>")[0]
    assert skopeo.authfile.read_text().strip() == shown
    assert_ok(skopeo.push(layout, f"{host}/team/temp:v1"))

    # Move the credential's clock past its expiry rather than waiting 24 hours.
    TemporaryCredential.objects.filter(username=username).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert_unauthorized(skopeo.login(host, username, password))


def test_a_federated_users_long_term_credential_is_refused(
    docker_registry: RunningRegistry, registry_in_console: Registry, owner: User, tmp_path: Path
) -> None:
    username, password = create_long_term(client_for(owner), registry_in_console, "ci-bot")
    owner.is_federated = True
    owner.save()
    assert_unauthorized(Skopeo(tmp_path).login(docker_registry.address, username, password))


def _foreign_token(service: str, directory: Path) -> str:
    """A well-formed token for `service`, signed by a key the registry does not trust: a second
    pair from create_registry_token_keys, as an attacker could make one."""
    key_file, cert_file = directory / "foreign.key", directory / "foreign.crt"
    call_command(
        "create_registry_token_keys", key=str(key_file), cert=str(cert_file), stdout=io.StringIO()
    )
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    now = int(time.time())
    claims = {
        "iss": "swrconsole",
        "sub": "intruder",
        "aud": service,
        "iat": now,
        "nbf": now - 5,
        "exp": now + 300,
        "jti": "x",
        "access": [{"type": "repository", "name": "team/app", "actions": ["pull", "push"]}],
    }
    x5c = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]
    return jwt.encode(claims, key, algorithm="ES256", headers={"x5c": x5c})


def test_the_registry_refuses_a_token_signed_with_another_key(
    docker_registry: RunningRegistry,
    registry_in_console: Registry,
    owner: User,
    live_server,
    tmp_path: Path,
) -> None:
    username, password = create_long_term(client_for(owner), registry_in_console, "ci-bot")
    url = f"{docker_registry.url}/v2/team/app/tags/list"
    genuine = requests.get(
        f"{live_server.url}/service/token",
        params={"service": docker_registry.address, "scope": "repository:team/app:pull"},
        auth=(username, password),
        timeout=10,
    ).json()["token"]
    # The repository does not exist yet: a trusted token gets past auth to a 404.
    assert (
        requests.get(url, headers={"Authorization": f"Bearer {genuine}"}, timeout=10).status_code
        == 404
    )
    forged = _foreign_token(docker_registry.address, tmp_path)
    assert (
        requests.get(url, headers={"Authorization": f"Bearer {forged}"}, timeout=10).status_code
        == 401
    )


def test_a_credential_created_with_huaweis_sdk_logs_in_until_the_sdk_disables_it(
    docker_registry: RunningRegistry,
    registry_in_console: Registry,
    owner: User,
    tmp_path: Path,
    live_server,
) -> None:
    from huaweicloudsdkswr.v2 import (
        CreateInstanceLtCredentialRequest,
        CreateLongTermCredentialRequestBody,
        UpdateInstanceLtCredentialRequest,
        UpdateLongTermCredentialRequestBody,
    )

    from tests.huawei_sdk import swr_client

    key, secret_key = new_access_key(owner)
    swr = swr_client(live_server.url, key.access_key_id, secret_key, registry_in_console.project_id)
    instance = str(registry_in_console.public_id)
    created = swr.create_instance_lt_credential(
        CreateInstanceLtCredentialRequest(
            instance_id=instance, body=CreateLongTermCredentialRequestBody(name="sdk-bot")
        )
    )
    skopeo = Skopeo(tmp_path)
    assert_ok(skopeo.login(docker_registry.address, created.user_id, created.auth_token))
    layout = tmp_path / "image"
    build_oci_image(layout)
    assert_ok(skopeo.push(layout, f"{docker_registry.address}/team/sdk:v1"))

    swr.update_instance_lt_credential(
        UpdateInstanceLtCredentialRequest(
            instance_id=instance,
            credential_id=created.token_id,
            body=UpdateLongTermCredentialRequestBody(enable=False),
        )
    )
    assert_unauthorized(skopeo.login(docker_registry.address, created.user_id, created.auth_token))


# --- The credential lifecycle (issue 16): expiry and rotation, as skopeo sees them ---------


def test_one_second_after_expiry_skopeo_can_no_longer_log_in(
    docker_registry: RunningRegistry, registry_in_console: Registry, owner: User, tmp_path: Path
) -> None:
    from credentials.models import AuditEvent, LongTermCredential

    console = client_for(owner)
    response = console.post(
        reverse("create_long_term", args=[registry_in_console.public_id]),
        {"name": "ci-bot", "validity": "30"},
    )
    assert response.status_code == 200
    _, username, password, *_, expires = list(csv.reader(io.StringIO(response.content.decode())))[1]
    credential = LongTermCredential.objects.get(username=username)
    assert expires == credential.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    skopeo = Skopeo(tmp_path)
    assert_ok(skopeo.login(docker_registry.address, username, password))
    # Move the credential's clock rather than the console's: a console clock 30 days ahead
    # would sign tokens the registry (on the real clock) refuses by itself, proving nothing.
    LongTermCredential.objects.filter(pk=credential.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert_unauthorized(skopeo.login(docker_registry.address, username, password))
    refusal = AuditEvent.objects.filter(
        action=AuditEvent.Action.REGISTRY_LOGIN_FAILED, credential_username=username
    ).first()
    assert refusal is not None  # refused by the console's token service, not the registry
    assert refusal.detail["reason"] == "wrong, disabled or expired credential"


def test_during_a_resets_overlap_both_passwords_log_in_and_after_it_only_the_new(
    docker_registry: RunningRegistry, registry_in_console: Registry, owner: User, tmp_path: Path,
    settings,
) -> None:  # fmt: skip
    from credentials.models import LongTermCredential

    console = client_for(owner)
    username, old = create_long_term(console, registry_in_console, "ci-bot")
    credential = LongTermCredential.objects.get(username=username)

    def reset() -> str:
        url = reverse("reset_long_term", args=[registry_in_console.public_id, credential.public_id])
        response = console.post(url)
        assert response.status_code == 200
        return list(csv.reader(io.StringIO(response.content.decode())))[1][2]

    new = reset()
    skopeo = Skopeo(tmp_path)
    assert_ok(skopeo.login(docker_registry.address, username, old))
    assert_ok(skopeo.login(docker_registry.address, username, new))
    # Move the overlap's end into the past rather than waiting 24 hours (a moved console clock
    # would sign tokens the registry, on the real clock, takes for not yet valid).
    LongTermCredential.objects.filter(pk=credential.pk).update(
        previous_password_until=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert_unauthorized(skopeo.login(docker_registry.address, username, old))
    assert_ok(skopeo.login(docker_registry.address, username, new))

    settings.ROTATION_GRACE_HOURS = 0  # no overlap: the replaced password stops at once
    newest = reset()
    assert_unauthorized(skopeo.login(docker_registry.address, username, new))
    assert_ok(skopeo.login(docker_registry.address, username, newest))


def test_a_user_from_the_identity_provider_pushes_with_a_temporary_credential_until_removed(
    docker_registry: RunningRegistry,
    registry_in_console: Registry,
    oidc_provider,
    settings,
    tmp_path: Path,
) -> None:
    """Signed in through the OpenID provider (tests/oidc_provider.py), a member of a group
    granted Edit on `team` pushes with a temporary credential; removed at the provider, the
    credential stops at the registry once OIDC_RENEW_SECONDS pass (time moved)."""
    use_provider(settings, oidc_provider)
    oidc_provider.put_user("gwen", groups=["team-pushers"])
    console = Client()
    sign_in(console, "gwen")
    assert User.objects.get(username="gwen").is_federated
    permit(registry_in_console, "team", EDIT, group=Group.objects.get(name="team-pushers"))
    username, password = generate_temporary(console, registry_in_console, "image")
    skopeo = Skopeo(tmp_path)
    layout = tmp_path / "image"
    build_oci_image(layout)
    assert_ok(skopeo.login(docker_registry.address, username, password))
    assert_ok(skopeo.push(layout, f"{docker_registry.address}/team/sso:v1"))
    oidc_provider.remove_user("gwen")
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=901)
    with time_machine.travel(later, tick=True):
        assert_unauthorized(skopeo.login(docker_registry.address, username, password))
    assert not User.objects.get(username="gwen").is_active
