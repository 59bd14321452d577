"""How to point a registry at this console: the registry overview shows administrators the
token realm, service, issuer and certificate, with the `auth:` section of a CNCF Distribution
config.yml, and `manage.py registry_setup` (which `make run` runs) prints the same; Debian's
docker-registry accepts what it prints."""

from __future__ import annotations

import html
import io
import os
import re
import secrets
import subprocess
from pathlib import Path

import pytest
import requests
import yaml
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from credentials.models import Registry, User
from tests.helpers import manage
from tests.registry import program
from tests.servers import free_port, wait_until_answering


def overview(client: Client, registry: Registry, language: str = "en") -> str:
    client.cookies["django_language"] = language
    response = client.get(reverse("registry_overview", args=[registry.public_id]))
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def printed(**options: str) -> str:
    out = io.StringIO()
    call_command("registry_setup", stdout=out, **options)
    return out.getvalue()


def auth_section(text: str) -> dict:
    """The first `auth:` section in `text` (the page's or the command's), read as YAML."""
    block = re.search(r'auth:\n  token:\n(    \w+: "[^"\n]*"\n?){4}', text)
    assert block, text
    return yaml.safe_load(block.group(0))


def test_an_administrator_sees_how_to_point_the_registry_at_this_console(
    staff_user: User, registry: Registry, token_keys: tuple[str, str]
) -> None:
    client = Client()
    client.force_login(staff_user)
    page = overview(client, registry)
    assert "Connect the registry to this console" in page
    assert auth_section(page) == {
        "auth": {
            "token": {
                "realm": "http://testserver/service/token",
                "service": registry.address,
                "issuer": "swrconsole",
                "rootcertbundle": str(Path(token_keys[1]).resolve()),
            }
        }
    }
    assert "REGISTRY_TOKEN_CERT_FILE" in page
    assert "REGISTRY_TOKEN_ISSUER" in page
    assert "Not created yet" not in page


def test_the_administrators_section_is_in_chinese_too(
    staff_user: User, registry: Registry, token_keys: tuple[str, str]
) -> None:
    client = Client()
    client.force_login(staff_user)
    page = overview(client, registry, "zh-hans")
    assert "将镜像仓库接入本控制台" in page
    assert "Connect the registry to this console" not in page
    assert "http://testserver/service/token" in page


def test_it_says_when_the_certificate_is_not_created_yet(
    staff_user: User, registry: Registry, settings, tmp_path: Path
) -> None:
    settings.REGISTRY_TOKEN_CERT_FILE = str(tmp_path / "missing.crt")
    client = Client()
    client.force_login(staff_user)
    page = overview(client, registry)
    assert "Not created yet: run manage.py create_registry_token_keys." in page.replace(
        "<code>", ""
    ).replace("</code>", "")


def test_an_ordinary_user_does_not_see_the_registry_setup(
    owner_client: Client, registry: Registry
) -> None:
    page = overview(owner_client, registry)
    assert "Connect the registry to this console" not in page
    assert "/service/token" not in page
    assert "rootcertbundle" not in page
    assert registry.address in page  # the page itself is there


def test_the_command_prints_the_setup_of_every_registry(
    registry: Registry, other_registry: Registry, token_keys: tuple[str, str]
) -> None:
    text = printed(console_url="http://127.0.0.1:8123")
    for each in (registry, other_registry):
        section = text[text.index(f"({each.address})") :]
        assert auth_section(section)["auth"]["token"] == {
            "realm": "http://127.0.0.1:8123/service/token",
            "service": each.address,
            "issuer": "swrconsole",
            "rootcertbundle": str(Path(token_keys[1]).resolve()),
        }
    assert "does not exist yet" not in text


def test_the_command_defaults_to_console_url_and_names_one_registry_on_request(
    registry: Registry, other_registry: Registry, token_keys: tuple[str, str], settings
) -> None:
    settings.CONSOLE_URL = "https://console.example.com"
    text = printed(registry=other_registry.address)
    assert auth_section(text)["auth"]["token"]["realm"] == (
        "https://console.example.com/service/token"
    )
    assert other_registry.address in text
    assert f"({registry.address})" not in text


def test_the_command_warns_when_the_certificate_is_missing(
    registry: Registry, settings, tmp_path: Path
) -> None:
    settings.REGISTRY_TOKEN_CERT_FILE = str(tmp_path / "missing.crt")
    text = printed()
    assert f"{tmp_path / 'missing.crt'} does not exist yet" in text
    assert "create_registry_token_keys" in text


def test_the_command_refuses_an_unknown_registry(registry: Registry) -> None:
    with pytest.raises(CommandError, match="no registry with the address 'nowhere:5000'"):
        printed(registry="nowhere:5000")


def test_the_command_explains_each_option() -> None:
    result = manage("registry_setup", "--help", env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    assert "--console-url CONSOLE_URL" in result.stdout
    assert "The console's address as registry clients reach it" in result.stdout
    assert "Only the registry with this address" in result.stdout


def test_docker_registry_accepts_the_printed_configuration(
    registry: Registry, token_keys: tuple[str, str], tmp_path: Path
) -> None:
    """Debian's docker-registry started with the printed `auth:` section sends clients to the
    console's realm for the registry's service."""
    address = f"127.0.0.1:{free_port()}"
    registry.address = address
    registry.save()
    text = printed(console_url="http://console.test:8000", registry=address)
    config = tmp_path / "config.yml"
    base = {
        "version": 0.1,
        "log": {"level": "warn"},
        "storage": {"filesystem": {"rootdirectory": str(tmp_path / "storage")}},
        "http": {"addr": address, "secret": secrets.token_hex(16)},
    }
    config.write_text(yaml.safe_dump(base) + text[text.index("auth:\n") :])
    assert yaml.safe_load(config.read_text())["auth"]["token"]["service"] == address
    log = tmp_path / "registry.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [program("docker-registry"), "serve", str(config)], stdout=output, stderr=output
        )
    try:
        wait_until_answering(process, f"http://{address}/v2/", 401, log)
        challenge = requests.get(f"http://{address}/v2/", timeout=10).headers["WWW-Authenticate"]
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert challenge == (
        f'Bearer realm="http://console.test:8000/service/token",service="{address}"'
    )
