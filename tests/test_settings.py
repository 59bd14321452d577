"""Settings and deployment: what the settings refuse at start, `check --deploy` with the
production example, and docker-compose.yml."""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet

from tests.helpers import ROOT, manage, run, settings_import


def test_settings_refuse_to_start_without_secret_key_when_debug_is_off() -> None:
    result = settings_import({"DEBUG": "false", "CREDENTIAL_HASH_KEY": "k"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is false" in result.stderr


def test_settings_start_with_secret_key_when_debug_is_off() -> None:
    result = settings_import(
        {
            "DEBUG": "false",
            "SECRET_KEY": "s" * 50,
            "CREDENTIAL_HASH_KEY": "k",
            "ACCESS_KEY_ENCRYPTION_KEYS": "dGVzdC1vbmx5LWFjY2Vzcy1rZXktZW5jcnlwdGlvbiE=",
        }
    )
    assert result.returncode == 0, result.stderr


def test_settings_refuse_to_start_without_the_credential_hash_key_when_debug_is_off() -> None:
    result = settings_import({"DEBUG": "false", "SECRET_KEY": "s" * 50})
    assert result.returncode != 0
    assert "CREDENTIAL_HASH_KEY must be set" in result.stderr


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
        # A value the type cannot read names its variable; a boolean is not guessed.
        ({"ROTATION_GRACE_HOURS": "abc"}, "ROTATION_GRACE_HOURS must be a whole number, not 'abc'"),
        ({"SWR_TIMEOUT_READ": "ten"}, "SWR_TIMEOUT_READ must be a number, not 'ten'"),
        ({"SECURE_SSL_REDIRECT": "ture"}, "SECURE_SSL_REDIRECT must be true or false, not 'ture'"),
        # A URL is named, never shown: it may carry a password.
        ({"CACHE_URL": "redis://:se[cret@host:6379/0"}, "CACHE_URL cannot be read"),
    ],
)
def test_settings_refuse_bad_values_at_start(env: dict[str, str], message: str) -> None:
    production = {
        "DEBUG": "false",
        "SECRET_KEY": "s" * 50,
        "CREDENTIAL_HASH_KEY": "k",
        "ACCESS_KEY_ENCRYPTION_KEYS": "dGVzdC1vbmx5LWFjY2Vzcy1rZXktZW5jcnlwdGlvbiE=",
    }
    result = settings_import(production | env)
    assert result.returncode != 0
    assert message in result.stderr
    assert "se[cret" not in result.stderr


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
        "ACCESS_KEY_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    }
    return env


def test_check_deploy_is_clean_with_the_production_example() -> None:
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "swrconsole.settings"}
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env | example_environment())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def compose_config(directory: Path, **passwords: str) -> str:
    """`docker-compose config` of the repository's compose file, .env from .env.example with
    `passwords` (its NAME=value lines replaced); fails on an invalid file."""
    compose = shutil.which("docker-compose")
    if not compose:
        pytest.fail(
            "docker-compose is needed to validate docker-compose.yml (apt-get install docker-compose)"
        )
    shutil.copy(ROOT / "docker-compose.yml", directory)
    shutil.copy(ROOT / "Dockerfile", directory)
    lines = (ROOT / ".env.example").read_text().splitlines()
    for name, value in passwords.items():
        lines = [f"{name}={value}" if line.startswith(f"{name}=") else line for line in lines]
    (directory / ".env").write_text("\n".join(lines) + "\n")
    result = run(compose, "config", cwd=directory, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_docker_compose_config_is_valid(tmp_path: Path) -> None:
    config = compose_config(tmp_path)
    services = yaml.safe_load(config)["services"]
    assert sorted(services) == ["db", "lifecycle", "migrate", "redis", "web"]
    # The scheduled side of the credential lifecycle runs the idempotent command in a loop.
    assert "python manage.py send_credential_reminders" in config
    # Every process's counters in the one Redis; the console serves as the runtime role.
    assert "CACHE_URL: redis://redis:6379/0" in config
    assert "DATABASE_URL: postgres://swrconsole:" in config
    assert "DATABASE_OWNER_URL: postgres://swrconsole_owner:" in config
    assert "redis-cli" in config


def test_only_the_one_shot_migrate_service_holds_the_owners_password(tmp_path: Path) -> None:
    owner, superuser = secrets.token_hex(8), secrets.token_hex(8)
    config = compose_config(tmp_path, DATABASE_OWNER_PASSWORD=owner, POSTGRES_PASSWORD=superuser)
    services = yaml.safe_load(config)["services"]

    migrate = services["migrate"]
    assert f"swrconsole_owner:{owner}@db" in migrate["environment"]["DATABASE_OWNER_URL"]
    assert migrate["command"] == ["python", "manage.py", "prepare_database", "--wait", "120"]
    for name in ("web", "lifecycle"):
        environment = services[name]["environment"]
        held = " ".join(str(value) for value in environment.values())
        assert owner not in held, f"{name} holds the owner's password"
        assert superuser not in held, f"{name} holds the superuser's password"
        assert environment["DATABASE_OWNER_URL"] == ""
        assert environment["DATABASE_URL"].startswith("postgres://swrconsole:")
    # web serves only once migrate has run to success, and does not run it again.
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["web"]["command"] == ["gunicorn", "-c", "gunicorn.conf.py", "swrconsole.wsgi"]
