"""Deployment checks, sign-in throttling, proxies and SSO, log redaction, docker-compose."""

from __future__ import annotations

import ipaddress
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from credentials.models import AuditEvent, Registry, User
from swrconsole.logs import redact
from tests.conftest import PASSWORD
from tests.test_foundation import settings_import

ROOT = Path(__file__).resolve().parent.parent


def example_environment() -> dict[str, str]:
    """The production example (.env.example) with its required secrets filled in."""
    env = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key] = value
    env |= {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "CREDENTIAL_HASH_KEY": secrets.token_urlsafe(32),
    }
    return env


def test_check_deploy_is_clean_with_the_production_example() -> None:
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "swrconsole.settings"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env | example_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_docker_compose_config_is_valid(tmp_path: Path) -> None:
    compose = shutil.which("docker-compose")
    if not compose:
        pytest.fail(
            "docker-compose is needed to validate docker-compose.yml (apt-get install docker-compose)"
        )
    shutil.copy(ROOT / "docker-compose.yml", tmp_path)
    shutil.copy(ROOT / "Dockerfile", tmp_path)
    (tmp_path / ".env").write_text((ROOT / ".env.example").read_text())
    result = subprocess.run(
        [compose, "config", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    services = subprocess.run(
        [compose, "config", "--services"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.split()
    assert sorted(services) == ["db", "web"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SWR_TIMEOUT_READ": "0"}, "SWR_TIMEOUT_READ must be a positive number"),
        ({"SSO_HEADER": "X-Forwarded-User"}, "SSO_HEADER needs TRUSTED_PROXIES"),
        (
            {"SWR_API_URL": "https://swr-api.example"},
            "SWR_API_URL is set, so the console needs an X-Auth-Token",
        ),
        ({"TRUSTED_PROXIES": "not-a-network"}, "TRUSTED_PROXIES"),
        (
            {"SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO"},
            "SECURE_PROXY_SSL_HEADER is 'HEADER,value'",
        ),
    ],
)
def test_settings_refuse_bad_values_at_start(env: dict[str, str], message: str) -> None:
    production = {"DEBUG": "false", "SECRET_KEY": "s" * 50, "CREDENTIAL_HASH_KEY": "k"}
    result = settings_import(production | env)
    assert result.returncode != 0
    assert message in result.stderr


def test_repeated_sign_in_failures_are_refused_with_a_clear_message(owner: User, settings) -> None:
    settings.SIGN_IN_FAILURES_PER_USERNAME = "3/15m"
    client = Client()
    for _ in range(3):
        assert (
            client.post("/accounts/login/", {"username": "alice", "password": "nope"}).status_code
            == 200
        )
    refused = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert refused.status_code == 429
    assert "Too many failed sign-in attempts" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    admin = Client().post("/admin/login/?next=/admin/", {"username": "alice", "password": PASSWORD})
    assert admin.status_code == 200  # the admin's form, refused, not a redirect into the admin
    assert AuditEvent.objects.filter(action="console.sign_in_failed").count() >= 3


def test_sign_in_failures_from_one_address_are_limited_across_usernames(
    owner: User, settings
) -> None:
    settings.SIGN_IN_FAILURES_PER_IP = "3/15m"
    client = Client()
    for name in ("x", "y", "z"):
        client.post("/accounts/login/", {"username": name, "password": "nope"})
    assert (
        client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}).status_code
        == 429
    )
    other = Client(REMOTE_ADDR="10.1.2.3")
    assert (
        other.post("/accounts/login/", {"username": "alice", "password": PASSWORD}).status_code
        == 302
    )


@override_settings(TRUSTED_PROXY_NETWORKS=[ipaddress.ip_network("127.0.0.0/8")])
def test_a_trusted_proxy_forwards_the_client_address(owner: User, registry: Registry) -> None:
    client = Client(HTTP_X_FORWARDED_FOR="203.0.113.9, 127.0.0.1")
    client.force_login(owner)
    client.post(reverse("create_long_term", args=[registry.public_id]), {"name": "via-proxy"})
    assert AuditEvent.objects.get(action="long_term.created").ip_address == "203.0.113.9"


def test_forwarded_for_from_anyone_else_is_ignored(owner: User, registry: Registry) -> None:
    client = Client(HTTP_X_FORWARDED_FOR="203.0.113.9")
    client.force_login(owner)
    client.post(reverse("create_long_term", args=[registry.public_id]), {"name": "direct"})
    assert AuditEvent.objects.get(action="long_term.created").ip_address == "127.0.0.1"


SSO = {
    "SSO_HEADER": "X-Forwarded-User",
    "TRUSTED_PROXY_NETWORKS": [ipaddress.ip_network("127.0.0.1/32")],
}


def _sso_settings(settings) -> None:
    for key, value in SSO.items():
        setattr(settings, key, value)
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE[
            : settings.MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware")
            + 1
        ],
        "credentials.middleware.TrustedHeaderSSOMiddleware",
        *settings.MIDDLEWARE[
            settings.MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware")
            + 1 :
        ],
    ]
    settings.AUTHENTICATION_BACKENDS = [
        "credentials.auth.ThrottledModelBackend",
        "credentials.auth.FederatedRemoteUserBackend",
    ]


def test_sso_signs_in_a_federated_user_from_a_trusted_proxy(settings, registry: Registry) -> None:
    _sso_settings(settings)
    response = Client().get("/", HTTP_X_FORWARDED_USER="sara")
    assert response.status_code == 200
    user = User.objects.get(username="sara")
    assert user.is_federated
    page = (
        Client()
        .get(reverse("long_term_tab", args=[registry.public_id]), HTTP_X_FORWARDED_USER="sara")
        .content.decode()
    )
    assert "Federated users cannot create or use long-term credentials" in page


def test_sso_header_from_an_untrusted_address_is_ignored(settings, db: None) -> None:
    _sso_settings(settings)
    response = Client(REMOTE_ADDR="198.51.100.7").get("/", HTTP_X_FORWARDED_USER="mallory")
    assert response.status_code == 302
    assert not User.objects.filter(username="mallory").exists()


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("docker login -u cn-north-4@ABC -p " + "a" * 64 + " host", "a" * 64),
        ("helm registry login h --username u --password hunter2hunter2", "hunter2hunter2"),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA=="),
        ('{"X-Auth-Token": "MIIabcdefgh"}', "MIIabcdefgh"),
        ("password=s3cretvalue", "s3cretvalue"),
    ],
)
def test_log_redaction_masks_credential_shaped_text(text: str, hidden: str) -> None:
    assert hidden not in redact(text)
    assert "[redacted]" in redact(text)
