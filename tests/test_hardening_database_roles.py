"""A least-privilege database (issue 14, finding 5): prepare_database runs as the owner role;
the console serves as a runtime role that can INSERT and SELECT audit events but cannot UPDATE,
DELETE, TRUNCATE, ALTER, DROP, disable triggers or replace the trigger's function; nor create a
temporary table, nor date an event itself (issue 23, item 4)."""

from __future__ import annotations

import os
import secrets
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import psycopg
import pytest
import requests
from django.db import connection

from tests.helpers import ROOT, iam_body, manage, run
from tests.servers import gunicorn

pytestmark = pytest.mark.postgresql(reason="the owner and runtime roles and their grants")

AUDIT = "credentials_auditevent"
OUTBOX = "credentials_auditoutbox"
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
        # The audit stream on: migrate switches it, its outbox queues every event.
        "AUDIT_SYSLOG_URL": "tcp://127.0.0.1:9",
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
        # A temporary table named like the trail would shadow it in any unqualified lookup.
        f"CREATE TEMPORARY TABLE {AUDIT} (LIKE public.{AUDIT})",
        # The audit stream: its outbox only read and emptied, its switch only read.
        f"INSERT INTO {OUTBOX} (seq, event_id) SELECT chain_seq + 1000, id FROM {AUDIT}",
        f"UPDATE {OUTBOX} SET seq = seq + 1000",
        f"TRUNCATE {OUTBOX}",
        "UPDATE credentials_auditstream SET enabled = false",
        "DELETE FROM credentials_auditstream",
        f"DROP TRIGGER credentials_auditevent_outbox ON {AUDIT}",
        "CREATE OR REPLACE FUNCTION credentials_auditevent_outbox() RETURNS trigger "
        "AS $$ BEGIN RETURN NULL; END; $$ LANGUAGE plpgsql",
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


def test_no_role_may_create_temporary_tables_through_public(deployment: Deployment) -> None:
    # PostgreSQL grants PUBLIC (every role) TEMPORARY on a new database; prepare_database
    # takes it back, so the runtime role holds it neither itself nor through PUBLIC.
    with deployment.connect(deployment.owner_url) as owner:
        public, runtime = owner.execute(
            "SELECT count(*) FILTER (WHERE a.grantee = 0), "
            "has_database_privilege(%s, current_database(), 'TEMPORARY') "
            "FROM pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a "
            "WHERE d.datname = current_database() AND a.privilege_type = 'TEMPORARY'",
            [deployment.runtime_role],
        ).fetchone()
    assert (public, runtime) == (0, False)


def test_prepare_database_refuses_a_runtime_role_that_can_still_create_temporary_tables(
    deployment: Deployment,
) -> None:
    helper = f"swr_temp_{secrets.token_hex(4)}"
    with _superuser_on(deployment) as admin:
        admin.execute(f'CREATE ROLE "{helper}" NOLOGIN')
        admin.execute(f'GRANT TEMPORARY ON DATABASE "{deployment.name}" TO "{helper}"')
        admin.execute(f'GRANT "{helper}" TO "{deployment.runtime_role}"')
    try:
        result = manage("prepare_database", "--wait", "30", env=_env(deployment), timeout=600)
    finally:
        with _superuser_on(deployment) as admin:
            admin.execute(f'REVOKE "{helper}" FROM "{deployment.runtime_role}"')
            admin.execute(f'REVOKE ALL ON DATABASE "{deployment.name}" FROM "{helper}"')
            admin.execute(f'DROP ROLE "{helper}"')
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        f'The runtime role "{deployment.runtime_role}" can still create temporary tables in '
        f'the database "{deployment.name}"'
    ) in result.stderr


def test_a_backdated_insert_by_the_runtime_role_is_dated_by_the_database(
    deployment: Deployment,
) -> None:
    with deployment.connect(deployment.runtime_url) as runtime:
        created_at, started = runtime.execute(
            f"INSERT INTO {AUDIT} (created_at, action, channel, actor_username, user_agent, "
            "registry_address, credential_name, credential_username, detail, prev_hash, hash) "
            "VALUES ('2001-02-03T04:05:06Z', 'console.sign_in', 'console', 'backdated', '', "
            "'', '', '', '{}', '', '') RETURNING created_at, now()"
        ).fetchone()
    assert started <= created_at < started + timedelta(minutes=1)
    env = {k: v for k, v in _env(deployment).items() if k != "DATABASE_OWNER_URL"}
    check = manage("verify_audit_trail", env=env)
    assert check.returncode == 0, check.stderr


def _superuser_on(deployed: Deployment) -> psycopg.Connection:
    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"],
        port=settings["PORT"],
        dbname=deployed.name,
        user=settings["USER"] or "postgres",
        autocommit=True,
    )


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


def test_the_runtime_roles_events_are_queued_and_the_sender_streams_them_as_the_runtime_role(
    deployment: Deployment,
) -> None:
    """The outbox's trigger writes as its owner: the runtime role inserts events only; the
    sender, serving as the runtime role, reads the outbox and deletes what was accepted."""
    with deployment.connect(deployment.runtime_url) as runtime:
        event_id = runtime.execute(
            f"INSERT INTO {AUDIT} (action, channel, actor_username, user_agent, "
            "registry_address, credential_name, credential_username, detail, prev_hash, hash) "
            "VALUES ('console.sign_in', 'console', 'streamed', '', '', '', '', '{}', '', '') "
            "RETURNING id"
        ).fetchone()[0]
        queued = runtime.execute(f"SELECT event_id FROM {OUTBOX}").fetchall()
    assert (event_id,) in queued
    env = {k: v for k, v in _env(deployment).items() if k != "DATABASE_OWNER_URL"}
    # A listening socket's kernel accepts and acknowledges the bytes: a receiver enough here.
    with socket.create_server(("127.0.0.1", 0)) as receiver:
        env["AUDIT_SYSLOG_URL"] = f"tcp://127.0.0.1:{receiver.getsockname()[1]}"
        sent = manage("stream_audit_trail", "--once", env=env)
        assert sent.returncode == 0, sent.stderr
        accepted, _ = receiver.accept()
        with accepted:
            accepted.settimeout(10)
            received = b"".join(iter(lambda: accepted.recv(65536), b""))  # the sender exited
    assert f'id="{event_id}"'.encode() in received
    with deployment.connect(deployment.runtime_url) as runtime:
        assert runtime.execute(f"SELECT count(*) FROM {OUTBOX}").fetchone() == (0,)
