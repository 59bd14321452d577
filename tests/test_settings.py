"""Settings and deployment: what the settings refuse at start, `check --deploy` with the
production example, and docker-compose.yml."""

from __future__ import annotations

import json
import os
import secrets
import shutil
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet

from tests.helpers import ROOT, manage, run, settings_import

pytestmark = pytest.mark.database_independent(
    reason="the settings and compose files, read or started on their own"
)


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
    assert sorted(services) == [
        "audit-stream",
        "db",
        "lb",
        "lifecycle",
        "migrate",
        "prometheus",
        "redis",
        "web",
    ]
    # The scheduled side of the credential lifecycle runs the idempotent command in a loop.
    assert "python manage.py send_credential_reminders" in config
    # The audit stream's sender runs when AUDIT_SYSLOG_URL is set, once migrate has switched it on.
    assert "exec python manage.py stream_audit_trail" in config
    assert services["audit-stream"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
    # Every process's counters in the one Redis; the console serves as the runtime role.
    assert "CACHE_URL: redis://redis:6379/0" in config
    assert "DATABASE_URL: postgres://swrconsole:" in config
    assert "DATABASE_OWNER_URL: postgres://swrconsole_owner:" in config
    assert "redis-cli" in config
    # Prometheus (profile monitoring) holds the metrics token and no other secret.
    prometheus = services["prometheus"]
    assert prometheus["profiles"] == ["monitoring"]
    assert "env_file" not in prometheus
    assert list(prometheus["environment"]) == ["METRICS_TOKEN"]
    assert "--config.file=/prometheus/config/prometheus.yml" in prometheus["command"][0]


def test_compose_serves_every_replica_through_the_load_balancer(tmp_path: Path) -> None:
    config = yaml.safe_load(compose_config(tmp_path))
    services = config["services"]
    lb, web = services["lb"], services["web"]
    # Only lb publishes a port, so `--scale web=3` starts replicas without editing ports.
    assert "ports" not in web
    assert [(port["published"], port["target"]) for port in lb["ports"]] == [(8000, 8080)]
    assert lb["image"].startswith("haproxy:2.")
    (mounted,) = lb["volumes"]  # source:target:mode, as docker-compose 1.x writes it
    source, target, mode = mounted.split(":")
    assert (source, target, mode) == (
        f"{tmp_path}/deploy/haproxy.cfg",
        "/usr/local/etc/haproxy/haproxy.cfg",
        "ro",
    )
    assert lb["depends_on"]["web"]["condition"] == "service_healthy"
    # The console believes X-Forwarded-For from lb's fixed address, and from nothing else.
    address = lb["networks"]["default"]["ipv4_address"]
    assert example_environment()["TRUSTED_PROXIES"].split(",") == [address]
    # docker stop waits out the drain and the graceful timeout before its SIGKILL.
    assert web["stop_grace_period"] == "40s"
    assert settings_values(PRODUCTION, "GRACEFUL_TIMEOUT") == {"GRACEFUL_TIMEOUT": 30}


def test_only_the_one_shot_migrate_service_holds_the_owners_password(tmp_path: Path) -> None:
    owner, superuser = secrets.token_hex(8), secrets.token_hex(8)
    config = compose_config(tmp_path, DATABASE_OWNER_PASSWORD=owner, POSTGRES_PASSWORD=superuser)
    services = yaml.safe_load(config)["services"]

    migrate = services["migrate"]
    assert f"swrconsole_owner:{owner}@db" in migrate["environment"]["DATABASE_OWNER_URL"]
    assert migrate["command"] == ["python", "manage.py", "prepare_database", "--wait", "120"]
    for name in ("web", "lifecycle", "audit-stream"):
        environment = services[name]["environment"]
        held = " ".join(str(value) for value in environment.values())
        assert owner not in held, f"{name} holds the owner's password"
        assert superuser not in held, f"{name} holds the superuser's password"
        assert environment["DATABASE_OWNER_URL"] == ""
        assert environment["DATABASE_OWNER_URL_FILE"] == ""  # nor from a file .env names
        assert environment["DATABASE_URL"].startswith("postgres://swrconsole:")
    # web serves only once migrate has run to success, and does not run it again.
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["web"]["command"] == ["gunicorn", "-c", "gunicorn.conf.py", "swrconsole.wsgi"]


PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "s" * 50,
    "CREDENTIAL_HASH_KEY": "k",
    "ACCESS_KEY_ENCRYPTION_KEYS": "dGVzdC1vbmx5LWFjY2Vzcy1rZXktZW5jcnlwdGlvbiE=",
}
RATES = [
    "SIGN_IN_FAILURES_PER_IP",
    "SIGN_IN_FAILURES_PER_USERNAME",
    "SIGN_IN_FAILURES_PER_USERNAME_ANYWHERE",
    "REGISTRY_LOGIN_FAILURES_PER_IP",
    "REGISTRY_LOGIN_FAILURES_PER_USERNAME",
    "REGISTRY_LOGIN_FAILURES_PER_USERNAME_ANYWHERE",
    "API_AUTH_FAILURES_PER_IP",
    "API_AUTH_FAILURES_PER_ACCESS_KEY",
    "API_AUTH_FAILURES_PER_ACCESS_KEY_ANYWHERE",
]


def settings_values(env: dict[str, str], *names: str) -> dict[str, object]:
    """The named settings (dotted paths into dicts allowed) as Django starts with `env`."""
    code = (
        "import json, django; django.setup(); from django.conf import settings\n"
        "def get(path):\n"
        "    name, *keys = path.split('.')\n"
        "    value = getattr(settings, name)\n"
        "    for key in keys: value = value[key]\n"
        "    return value\n"
        f"print(json.dumps({{name: get(name) for name in {list(names)!r}}}))"
    )
    result = settings_import(env, code)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def refused(env: dict[str, str]) -> str:
    """What Django says when it refuses to start with `env` (a production configuration)."""
    result = settings_import(PRODUCTION | env)
    assert result.returncode != 0, f"started with {env}"
    return result.stderr


@pytest.mark.parametrize("name", RATES)
def test_every_rate_setting_refuses_a_value_that_is_not_a_rate_at_start(name: str) -> None:
    assert f"{name} must be a rate (" in refused({name: "30 per 15m"})


@pytest.mark.parametrize("value", ["", "0/m", "10/0m", "10/15x", "10/15M", "10/", "-1/m", "10/m/s"])
def test_a_rate_without_a_count_a_window_or_a_known_unit_is_refused(value: str) -> None:
    stderr = refused({"SIGN_IN_FAILURES_PER_IP": value})
    assert "SIGN_IN_FAILURES_PER_IP must be a rate (a count, '/', then s, m, h or d" in stderr
    assert f"not {value!r}" in stderr


def test_the_rate_forms_the_defaults_and_the_docs_use_are_accepted() -> None:
    forms = {"SIGN_IN_FAILURES_PER_IP": "5/m", "REGISTRY_LOGIN_FAILURES_PER_IP": "10/15m"}
    forms |= {"API_AUTH_FAILURES_PER_IP": "100/d", "SIGN_IN_FAILURES_PER_USERNAME": "2/s"}
    assert settings_values(PRODUCTION | forms, *forms) == forms


@pytest.mark.parametrize(
    "name",
    [
        "TEMPORARY_CREDENTIALS_PER_MINUTE",
        "ACCESS_KEYS_PER_USER",
        "LONG_TERM_CREDENTIALS_PER_REGISTRY",
    ],
)
@pytest.mark.parametrize("value", ["0", "-1"])
def test_a_limit_below_one_is_refused_at_start(name: str, value: str) -> None:
    assert f"{name} must be 1 or more, not {value}." in refused({name: value})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DRAIN_SECONDS": "30"}, "less than GRACEFUL_TIMEOUT (30), not 30."),
        ({"GRACEFUL_TIMEOUT": "10", "DRAIN_SECONDS": "12"}, "than GRACEFUL_TIMEOUT (10), not 12."),
        ({"DRAIN_SECONDS": "-1"}, "DRAIN_SECONDS must be 0 or more"),
        ({"GRACEFUL_TIMEOUT": "0"}, "GRACEFUL_TIMEOUT must be 1 or more, not 0."),
    ],
)
def test_a_drain_not_shorter_than_the_graceful_timeout_is_refused_at_start(
    env: dict[str, str], message: str
) -> None:
    # The drain is part of the graceful timeout (swrconsole/gunicorn_worker.py).
    assert message in refused(env)


def test_the_graceful_stop_defaults_to_a_5_s_drain_within_30_s() -> None:
    stop = settings_values(PRODUCTION, "GRACEFUL_TIMEOUT", "DRAIN_SECONDS")
    assert stop == {"GRACEFUL_TIMEOUT": 30, "DRAIN_SECONDS": 5}
    assert settings_values(PRODUCTION | {"DRAIN_SECONDS": "0"}, "DRAIN_SECONDS") == {
        "DRAIN_SECONDS": 0
    }


@pytest.mark.parametrize("value", ["pull,pusj", "Pull", "", ",", "pull,*"])
def test_registry_token_actions_other_than_pull_push_and_delete_are_refused(value: str) -> None:
    stderr = refused({"REGISTRY_TOKEN_ACTIONS": value})
    assert "REGISTRY_TOKEN_ACTIONS must list one or more of pull, push, delete" in stderr


def test_registry_token_actions_may_have_spaces_after_their_commas() -> None:
    env = PRODUCTION | {"REGISTRY_TOKEN_ACTIONS": "pull, push , delete"}
    values = settings_values(env, "REGISTRY_TOKEN_ACTIONS")
    assert values == {"REGISTRY_TOKEN_ACTIONS": ["pull", "push", "delete"]}


# --- Secrets from files (NAME_FILE: Docker and Kubernetes secrets) ----------------------

FERNET_KEYS = f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}"
# Each secret, what its file holds, and where the setting shows it.
SECRET_FILES = {
    "SECRET_KEY": ("f" * 50, "SECRET_KEY"),
    "CREDENTIAL_HASH_KEY": ("hash-key-from-a-file", "CREDENTIAL_HASH_KEY"),
    "ACCESS_KEY_ENCRYPTION_KEYS": (FERNET_KEYS, "ACCESS_KEY_ENCRYPTION_KEYS"),
    "DATABASE_URL": ("postgres://rt:pw-runtime@db:5432/swr", "DATABASES.default.PASSWORD"),
    "DATABASE_OWNER_URL": ("postgres://ow:pw-owner@db:5432/swr", "DATABASES.owner.PASSWORD"),
    "CACHE_URL": ("redis://:pw-redis@redis:6379/0", "CACHES.default.LOCATION"),
    "SWR_AUTH_TOKEN": ("token-from-a-file", "SWR_AUTH_TOKEN"),
    "SWR_IAM_PASSWORD": ("iam-password-from-a-file", "SWR_IAM_PASSWORD"),
    "EMAIL_URL": ("smtp+tls://mailer:pw-mail@mail.example:587", "EMAIL_HOST_PASSWORD"),
    "METRICS_TOKEN": ("metrics-token-from-a-file-0123456789", "METRICS_TOKEN"),
}
SHOWN = {
    "ACCESS_KEY_ENCRYPTION_KEYS": FERNET_KEYS.split(","),
    "DATABASE_URL": "pw-runtime",
    "DATABASE_OWNER_URL": "pw-owner",
    "CACHE_URL": "redis://:pw-redis@redis:6379/0",
    "EMAIL_URL": "pw-mail",
}


def test_every_secret_can_come_from_a_file_its_trailing_newline_dropped(tmp_path: Path) -> None:
    env = {"DEBUG": "false"}
    for name, (content, _) in SECRET_FILES.items():
        (tmp_path / name).write_text(content + "\n")
        env[f"{name}_FILE"] = str(tmp_path / name)
    shown = settings_values(env, *(setting for _, setting in SECRET_FILES.values()))
    expected = {
        setting: SHOWN.get(name, content) for name, (content, setting) in SECRET_FILES.items()
    }
    assert shown == expected


def test_the_smtp_password_alone_can_come_from_a_file(tmp_path: Path) -> None:
    (tmp_path / "smtp").write_text("p@ss:word/with#signs\n")
    env = PRODUCTION | {
        "EMAIL_URL": "smtp+tls://mailer@mail.example:587",
        "EMAIL_HOST_PASSWORD_FILE": str(tmp_path / "smtp"),
    }
    values = settings_values(env, "EMAIL_HOST_PASSWORD", "EMAIL_HOST_USER", "EMAIL_HOST")
    assert values == {
        "EMAIL_HOST_PASSWORD": "p@ss:word/with#signs",
        "EMAIL_HOST_USER": "mailer",
        "EMAIL_HOST": "mail.example",
    }


def test_a_file_is_taken_as_written_not_as_a_reference_to_another_variable(
    tmp_path: Path,
) -> None:
    (tmp_path / "token").write_text("$SECRET_KEY\n")
    env = PRODUCTION | {"SWR_AUTH_TOKEN_FILE": str(tmp_path / "token")}
    assert settings_values(env, "SWR_AUTH_TOKEN") == {"SWR_AUTH_TOKEN": "$SECRET_KEY"}


def test_a_secret_set_both_plainly_and_as_a_file_is_refused_at_start(tmp_path: Path) -> None:
    (tmp_path / "key").write_text("from-the-file-1234\n")
    stderr = refused({"CREDENTIAL_HASH_KEY_FILE": str(tmp_path / "key")})  # and plainly
    assert "CREDENTIAL_HASH_KEY and CREDENTIAL_HASH_KEY_FILE are both set" in stderr
    assert "from-the-file-1234" not in stderr


def test_an_empty_plain_value_beside_its_file_counts_as_unset(tmp_path: Path) -> None:
    # As when .env.example's blank `SECRET_KEY=` is copied and the key comes from a file.
    (tmp_path / "key").write_text("k" * 50)
    env = PRODUCTION | {"SECRET_KEY": "", "SECRET_KEY_FILE": str(tmp_path / "key")}
    assert settings_values(env, "SECRET_KEY") == {"SECRET_KEY": "k" * 50}


def test_a_secret_file_that_cannot_be_read_is_named_and_its_content_never_shown(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "nowhere"
    stderr = refused({"SECRET_KEY": "", "SECRET_KEY_FILE": str(missing)})
    assert f"SECRET_KEY_FILE: cannot read {missing} (No such file or directory)." in stderr

    (tmp_path / "binary").write_bytes(b"se\xffcret-bytes")
    stderr = refused({"SWR_AUTH_TOKEN_FILE": str(tmp_path / "binary")})
    assert f"SWR_AUTH_TOKEN_FILE: {tmp_path / 'binary'} is not UTF-8 text." in stderr
    assert "cret-bytes" not in stderr
    assert "\\xff" not in stderr

    (tmp_path / "cache").write_text("redis://:se[cret@host:6379/0\n")
    stderr = refused({"CACHE_URL_FILE": str(tmp_path / "cache")})
    assert "CACHE_URL cannot be read" in stderr
    assert "se[cret" not in stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OIDC_ISSUER": "http://idp.example"}, "OIDC_ISSUER must be the provider's https:// URL"),
        ({"OIDC_ISSUER": "https://idp.example"}, "OIDC_CLIENT_ID must be set with OIDC_ISSUER"),
        (
            {"OIDC_ISSUER": "https://idp.example", "OIDC_CLIENT_ID": "c", "OIDC_SCOPES": "email"},
            "OIDC_SCOPES must include openid",
        ),
        ({"OIDC_RENEW_SECONDS": "0"}, "OIDC_RENEW_SECONDS must be 1 or more"),
        ({"OIDC_RENEW_SECONDS": "soon"}, "OIDC_RENEW_SECONDS must be a whole number"),
        ({"LOCAL_LOGIN": "false"}, "LOCAL_LOGIN=false needs OIDC_ISSUER"),
        ({"LOCAL_LOGIN": "nope"}, "LOCAL_LOGIN must be true or false"),
        (
            {"OIDC_CLIENT_SECRET": "s", "OIDC_CLIENT_SECRET_FILE": "/dev/null"},
            "OIDC_CLIENT_SECRET and OIDC_CLIENT_SECRET_FILE are both set",
        ),
    ],
)
def test_settings_refuse_an_identity_provider_setting_that_cannot_work(
    env: dict[str, str], message: str
) -> None:
    result = settings_import({"DEBUG": "true", **env})
    assert result.returncode != 0
    assert message in result.stderr


def test_settings_read_the_identity_provider_with_its_secret_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "oidc-secret"
    secret.write_text("from-the-file\n")
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "o = s.OIDC; print(o.issuer, o.client_secret, ' '.join(o.scopes), o.provider_name, "
        "sorted(o.admin_groups), o.renew_seconds, s.LOCAL_LOGIN, repr(o).count('from-the-file'))"
    )
    env = {
        "DEBUG": "true",
        "OIDC_ISSUER": "https://idp.example/realms/swr/",
        "OIDC_CLIENT_ID": "swr-console",
        "OIDC_CLIENT_SECRET_FILE": str(secret),
        "OIDC_ADMIN_GROUPS": "swr-admins, ops",
        "LOCAL_LOGIN": "false",
    }
    result = settings_import(env, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "https://idp.example/realms/swr",
        "from-the-file",
        "openid",
        "email",
        "profile",
        "OpenID",
        "Connect",
        "['ops',",
        "'swr-admins']",
        "900",
        "False",
        "0",
    ]


def test_settings_start_with_an_identity_provider_that_cannot_be_reached() -> None:
    # Nothing asks the provider at start: its discovery waits for the first sign-in, which
    # shows a clear page while it cannot be reached (tests/test_oidc_sign_in.py).
    env = {
        "DEBUG": "true",
        "OIDC_ISSUER": "https://127.0.0.1:9",
        "OIDC_CLIENT_ID": "swr-console",
    }
    result = settings_import(env, "import django; django.setup(); from swrconsole import urls")
    assert result.returncode == 0, result.stderr
