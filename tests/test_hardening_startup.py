"""Operator traps (issue 14, findings 14 and 15): the production example trusts only the proxy
it names; a missing static manifest or any configuration error stops the server with one line."""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, manage, run
from tests.servers import free_port

pytestmark = pytest.mark.database_independent(
    reason="gunicorn refusing to start, before any database"
)

PRODUCTION = {
    "PATH": "/usr/bin:/bin",
    "DEBUG": "false",
    "SECRET_KEY": "s" * 50,
    "CREDENTIAL_HASH_KEY": "k" * 32,
    "ACCESS_KEY_ENCRYPTION_KEYS": os.environ["ACCESS_KEY_ENCRYPTION_KEYS"],
    "ALLOWED_HOSTS": "127.0.0.1",
}


def example_value(name: str) -> str:
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.startswith(f"{name}="):
            return line.partition("=")[2]
    raise AssertionError(f"{name} is not in .env.example")


def test_the_production_example_trusts_only_the_proxy_it_names() -> None:
    entries = [entry for entry in example_value("TRUSTED_PROXIES").split(",") if entry]
    assert entries, "the example names its proxy"
    for entry in entries:
        network = ipaddress.ip_network(entry, strict=False)
        assert network.num_addresses == 1, f"{entry} trusts {network.num_addresses} addresses"
    # A container elsewhere on a Docker bridge network is not a proxy.
    assert not any(
        ipaddress.ip_address("172.17.0.5") in ipaddress.ip_network(entry, strict=False)
        for entry in entries
    )


def run_gunicorn(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "swrconsole.wsgi"]
    bind = {"GUNICORN_BIND": f"127.0.0.1:{free_port()}"}
    return run(*command, cwd=ROOT, env=PRODUCTION | bind | env)


def our_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    """What the process printed, without gunicorn's own timestamped log lines."""
    lines = (result.stdout + result.stderr).splitlines()
    return [line for line in lines if line.strip() and not line.startswith("[")]


def test_gunicorn_refuses_to_start_without_the_static_manifest(tmp_path: Path) -> None:
    empty = tmp_path / "static"
    empty.mkdir()
    result = run_gunicorn(tmp_path, STATIC_ROOT=str(empty))
    assert result.returncode != 0
    lines = our_lines(result)
    assert len(lines) == 1, lines
    assert "staticfiles.json is missing" in lines[0]
    assert "collectstatic" in lines[0]
    assert "Traceback" not in result.stderr


def test_gunicorn_names_a_configuration_error_in_one_line(tmp_path: Path) -> None:
    result = run_gunicorn(tmp_path, SWR_API_URL="https://swr-api.example")
    assert result.returncode != 0
    lines = our_lines(result)
    assert lines == [
        "error: SWR_API_URL is set, so the console needs an X-Auth-Token: set SWR_AUTH_TOKEN, "
        "or the IAM password grant (SWR_IAM_URL, SWR_IAM_DOMAIN, SWR_IAM_USER, "
        "SWR_IAM_PASSWORD missing)."
    ]


@pytest.mark.parametrize(
    "env",
    [
        {"SWR_API_URL": "https://swr-api.example"},
        {"SWR_TIMEOUT_READ": "0"},
        {"SSO_HEADER": "X-Forwarded-User"},
        {"TRUSTED_PROXIES": "not-a-network"},
        {"SECRET_KEY": ""},
        {"ROTATION_GRACE_HOURS": "abc"},
        {"SESSION_COOKIE_SECURE": "maybe"},
    ],
)
def test_every_configuration_error_is_one_line_from_manage_py(env: dict[str, str]) -> None:
    result = manage("check", env=PRODUCTION | env)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
