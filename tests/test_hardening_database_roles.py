"""A least-privilege database (issue 14, finding 5): prepare_database runs as the owner role;
the console serves as a runtime role that can INSERT and SELECT audit events but cannot UPDATE,
DELETE, TRUNCATE, ALTER, DROP, disable triggers or replace the trigger's function."""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
import requests
from django.db import connection

from tests.helpers import ROOT, iam_body, manage, run
from tests.servers import gunicorn

pytestmark = pytest.mark.postgresql(reason="the owner and runtime roles and their grants")

AUDIT = "credentials_auditevent"
# As the TLS-terminating proxy tells the production settings.
HTTPS = {"X-Forwarded-Proto": "https"}


@dataclass(frozen=True)
class Deployment:
    name: str
    owner_url: str
    runtime_url: str
    runtime_role: str
    keys: tuple[str, str]

    def connect(self, url: str) -> psycopg.Connection:
        return psycopg.connect(url, autocommit=True)


def _superuser() -> psycopg.Connection:
    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"],
        port=settings["PORT"],
        dbname="postgres",
        user=settings["USER"] or "postgres",
        autocommit=True,
    )


def _role(name_variable: str, default: str, options: str) -> str:
    role = os.environ.get(name_variable, default)
    with _superuser() as admin:
        found = admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
        if found is None:  # a database that `make test` did not start
            admin.execute(f'CREATE ROLE "{role}" {options}')
    return role


@pytest.fixture(scope="module")
def deployment(
    django_db_blocker: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    """A fresh database owned by the owner role, prepared by `manage.py prepare_database` with
    DATABASE_OWNER_URL (owner) and DATABASE_URL (runtime), as docker-compose runs it."""
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        owner = _role("SWR_TEST_OWNER_ROLE", "swrconsole_owner", "LOGIN CREATEDB")
        runtime = _role("SWR_TEST_RUNTIME_ROLE", "swrconsole_runtime", "LOGIN")
        settings = connection.settings_dict
    name = f"swr_roles_{secrets.token_hex(4)}"
    base = f"postgres://{{}}@{settings['HOST']}:{settings['PORT']}/{name}"
    with _superuser() as admin:
        admin.execute(f'CREATE DATABASE "{name}" OWNER "{owner}"')
    keys = tmp_path_factory.mktemp("roles-keys")
    deployed = Deployment(
        name,
        base.format(owner),
        base.format(runtime),
        runtime,
        (str(keys / "token.key"), str(keys / "token.crt")),
    )
    try:
        result = manage("prepare_database", "--wait", "30", env=_env(deployed), timeout=600)
        assert result.returncode == 0, result.stdout + result.stderr
        yield deployed
    finally:
        with _superuser() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _env(deployed: Deployment) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "DEBUG": "false",
        "SECRET_KEY": "s" * 50,
        "CREDENTIAL_HASH_KEY": "test-only-credential-hash-key",
        "ACCESS_KEY_ENCRYPTION_KEYS": os.environ["ACCESS_KEY_ENCRYPTION_KEYS"],
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": deployed.runtime_url,
        "DATABASE_OWNER_URL": deployed.owner_url,
        "REGISTRY_TOKEN_KEY_FILE": deployed.keys[0],
        "REGISTRY_TOKEN_CERT_FILE": deployed.keys[1],
    }


def test_the_owner_owns_every_table_and_the_runtime_role_none(deployment: Deployment) -> None:
    with deployment.connect(deployment.owner_url) as owner:
        owners = {
            row[0]
            for row in owner.execute(
                "SELECT tableowner FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        }
    assert owners == {deployment.owner_url.split("//")[1].split("@")[0]}


def test_the_runtime_role_inserts_and_reads_audit_events(deployment: Deployment) -> None:
    with deployment.connect(deployment.runtime_url) as runtime:
        runtime.execute(
            f"INSERT INTO {AUDIT} (created_at, action, channel, actor_username, user_agent, "
            "registry_address, credential_name, credential_username, detail, prev_hash, hash) "
            "VALUES (now(), 'console.sign_in', 'console', 'runtime', '', '', '', '', '{}', '', '')"
        )
        count = runtime.execute(f"SELECT count(*) FROM {AUDIT}").fetchone()[0]
    assert count >= 1


@pytest.mark.parametrize(
    "statement",
    [
        f"UPDATE {AUDIT} SET actor_username = 'mallory'",
        f"DELETE FROM {AUDIT}",
        f"TRUNCATE {AUDIT}",
        f"ALTER TABLE {AUDIT} DISABLE TRIGGER credentials_auditevent_append_only",
        f"ALTER TABLE {AUDIT} DISABLE TRIGGER ALL",
        f"ALTER TABLE {AUDIT} ADD COLUMN note text",
        f"DROP TRIGGER credentials_auditevent_append_only ON {AUDIT}",
        f"DROP TRIGGER credentials_auditevent_chain ON {AUDIT}",
        f"DROP TABLE {AUDIT}",
        "CREATE OR REPLACE FUNCTION credentials_auditevent_append_only() RETURNS trigger "
        "AS $$ BEGIN RETURN NEW; END; $$ LANGUAGE plpgsql",
        "DROP FUNCTION credentials_auditevent_chain()",
        "CREATE TABLE shadow (id int)",
    ],
)
def test_the_runtime_role_cannot_change_the_trail(deployment: Deployment, statement: str) -> None:
    with (
        deployment.connect(deployment.runtime_url) as runtime,
        pytest.raises(psycopg.errors.InsufficientPrivilege) as refused,
    ):
        runtime.execute(statement)
    message = str(refused.value)
    # The database's privileges refuse it, not the append-only trigger (which the owner could
    # switch off): "permission denied" or "must be owner".
    assert "permission denied" in message or "must be owner" in message, message


def test_tables_a_later_migration_creates_are_granted_automatically(
    deployment: Deployment,
) -> None:
    with deployment.connect(deployment.owner_url) as owner:
        owner.execute("CREATE TABLE credentials_future (id bigserial PRIMARY KEY, note text)")
    try:
        with deployment.connect(deployment.runtime_url) as runtime:
            runtime.execute("INSERT INTO credentials_future (note) VALUES ('granted')")
            runtime.execute("UPDATE credentials_future SET note = 'changed'")
            assert runtime.execute("SELECT note FROM credentials_future").fetchone() == ("changed",)
    finally:
        with deployment.connect(deployment.owner_url) as owner:
            owner.execute("DROP TABLE credentials_future")


def test_the_console_serves_as_the_runtime_role(deployment: Deployment) -> None:
    """Sign-in, the built-in IAM and SWR API (a credential and its chained audit event), and
    the registry token service all work with no more than the runtime role's privileges."""
    with deployment.connect(deployment.runtime_url) as runtime:
        runtime.execute("SELECT 1")
    env = {k: v for k, v in _env(deployment).items() if k != "DATABASE_OWNER_URL"}
    env["DATABASE_URL"] = deployment.runtime_url
    _create_user(env)
    with gunicorn("runtime-role", **env) as server:
        body = iam_body("rita", "a long enough password")
        token = requests.post(f"{server.url}/v3/auth/tokens", json=body, headers=HTTPS, timeout=30)
        assert token.status_code == 201, token.text
        secret = requests.post(
            f"{server.url}/v2/manage/utils/secret",
            json={},
            headers={"X-Auth-Token": token.headers["X-Subject-Token"], **HTTPS},
            timeout=30,
        )
        assert secret.status_code == 200, secret.text
        assert "ERROR" not in server.log_text()
    check = manage("verify_audit_trail", env=env)
    assert check.returncode == 0, check.stderr
    assert "The audit trail verifies" in check.stdout


def _create_user(env: dict[str, str]) -> None:
    code = (
        "import django; django.setup(); from credentials.models import User; "
        "User.objects.create_user('rita', password='a long enough password')"
    )
    settings_module = {"DJANGO_SETTINGS_MODULE": "swrconsole.settings"}
    run(sys.executable, "-c", code, cwd=ROOT, env=env | settings_module, check=True)
