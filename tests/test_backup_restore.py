"""Backup and restore that loses nothing (docs/OPERATIONS.md): a running console backed up with
scripts/backup.sh, restored with scripts/restore.sh into a PostgreSQL cluster of its own, serves
the same long-term credentials (a real registry lets them log in), the same access keys (Huawei's
SDK signs a call that works) and an audit trail that verifies against the head recorded before
the backup."""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from huaweicloudsdkswr.v2 import ListInstanceLtCredentialsRequest

from tests.helpers import ROOT, run
from tests.huawei_sdk import swr_client
from tests.registry import RunningRegistry, Skopeo, assert_ok, serving_docker_registry
from tests.servers import Gunicorn, free_port, gunicorn, postgresql_cluster

pytestmark = pytest.mark.postgresql(reason="pg_dump and pg_restore, the owner and runtime roles")

# What the console keeps outside its database, the same before and after (the secret store's).
SECRETS = {
    "SECRET_KEY": "backup-test-secret-key-" + "s" * 40,
    "CREDENTIAL_HASH_KEY": "backup-test-credential-hash-key",
    "ACCESS_KEY_ENCRYPTION_KEYS": "YmFja3VwLXRlc3QtYWNjZXNzLWtleS1lbmNyeXB0ISE=",
}
# Creates what the backup must keep, through the domain, as the running console would.
DATA = """
import json, django
django.setup()
from credentials.models import AccessKey, Actor, LongTermCredential, Registry, User
user = User.objects.create_user("rita", password="a long enough password")
registry = Registry.objects.get()
credential, password = LongTermCredential.objects.create_for(
    owner=user, registry=registry, name="ci-robot", by=Actor(user=user)
)
key, secret_key = AccessKey.objects.create_for(user=user, by=Actor(user=user))
print(json.dumps({"username": credential.username, "password": password,
    "ak": key.access_key_id, "sk": secret_key, "project": registry.project_id,
    "registry": str(registry.public_id)}))
"""


@dataclass(frozen=True)
class Console:
    """One deployment: its environment (the runtime role's and the owner's URLs, the key pair's
    paths, the secrets), where it listens, and the registry that trusts its tokens."""

    env: dict[str, str]
    port: int

    def serving(self, name: str) -> AbstractContextManager[Gunicorn]:
        serving = {k: v for k, v in self.env.items() if k != "DATABASE_OWNER_URL"}
        return gunicorn(name, self.port, SECURE_SSL_REDIRECT="false", **serving)

    def script(self, *args: str) -> str:
        result = run(*args, cwd=ROOT, env=self.env, timeout=600)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout


def _environment(owner_url: str, runtime_url: str, keys: Path, registry: str) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "PYTHON": sys.executable,
        "DJANGO_SETTINGS_MODULE": "swrconsole.settings",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        **SECRETS,
        "DATABASE_URL": runtime_url,
        "DATABASE_OWNER_URL": owner_url,
        "REGISTRY_TOKEN_KEY_FILE": str(keys / "registry-token.key"),
        "REGISTRY_TOKEN_CERT_FILE": str(keys / "registry-token.crt"),
        # The registry the console bootstraps: the real one below (the token's service).
        "SWR_DEFAULT_REGISTRY_ADDRESS": registry,
    }


def _database(superuser_url: str, name: str, owner: str) -> None:
    with psycopg.connect(superuser_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" OWNER "{owner}"')


@pytest.fixture(scope="module")
def registry_address() -> str:
    return f"127.0.0.1:{free_port()}"


@pytest.fixture(scope="module")
def original(
    django_db_blocker: object, tmp_path_factory: pytest.TempPathFactory, registry_address: str
) -> Iterator[Console]:
    """A console deployed as docs/OPERATIONS.md describes (owner and runtime roles,
    prepare_database) on the suite's PostgreSQL, in a database of its own."""
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        settings = connection.settings_dict
    superuser = f"postgres://{settings['USER'] or 'postgres'}@{settings['HOST']}:{settings['PORT']}"
    owner = os.environ.get("SWR_TEST_OWNER_ROLE", "swrconsole_owner")
    runtime = os.environ.get("SWR_TEST_RUNTIME_ROLE", "swrconsole_runtime")
    with psycopg.connect(f"{superuser}/postgres", autocommit=True) as admin:
        for role in (owner, runtime):  # a database that `make test` did not start has none
            if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone():
                admin.execute(f'CREATE ROLE "{role}" LOGIN')
    name = f"swr_backup_{secrets.token_hex(4)}"
    _database(f"{superuser}/postgres", name, owner)
    base = f"postgres://{{}}@{settings['HOST']}:{settings['PORT']}/{name}"
    keys = tmp_path_factory.mktemp("original-keys")
    console = Console(
        _environment(base.format(owner), base.format(runtime), keys, registry_address), free_port()
    )
    try:
        console.script(sys.executable, "manage.py", "prepare_database", "--wait", "30")
        yield console
    finally:
        with psycopg.connect(f"{superuser}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def registry(
    original: Console, tmp_path_factory: pytest.TempPathFactory, registry_address: str
) -> Iterator[RunningRegistry]:
    """Debian's docker-registry trusting the original console's certificate, its realm the
    console's port (the restored console serves on the same one)."""
    directory = tmp_path_factory.mktemp("registry")
    realm = f"http://127.0.0.1:{original.port}/service/token"
    certificate = original.env["REGISTRY_TOKEN_CERT_FILE"]
    with serving_docker_registry(directory, realm, certificate, registry_address) as running:
        yield running


@pytest.fixture(scope="module")
def fresh_cluster() -> Iterator[str]:
    """Another PostgreSQL cluster, set up as docker-compose sets up an empty data directory:
    scripts/postgres-roles.sh creates the owner and runtime roles and gives the owner the
    database."""
    with postgresql_cluster() as superuser:
        base = superuser.rsplit("/", 1)[0]
        with psycopg.connect(superuser, autocommit=True) as admin:
            admin.execute('CREATE DATABASE "swrconsole"')
        host, port = base.rsplit("@", 1)[1].split(":")
        env = {
            "PATH": os.environ["PATH"],
            "PGHOST": host,
            "PGPORT": port,
            "POSTGRES_USER": "postgres",
            "POSTGRES_DB": "swrconsole",
            "DATABASE_OWNER_PASSWORD": secrets.token_hex(8),
            "DATABASE_RUNTIME_PASSWORD": secrets.token_hex(8),
        }
        roles = run("sh", str(ROOT / "scripts" / "postgres-roles.sh"), env=env)
        assert roles.returncode == 0, roles.stderr
        yield base


@dataclass(frozen=True)
class Restored:
    console: Console
    secrets: dict[str, str]
    head: str


@pytest.fixture(scope="module")
def restored(
    original: Console,
    registry: RunningRegistry,
    fresh_cluster: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Restored:
    """The original console, serving, given a credential and an access key that work, its
    trail's head recorded, backed up with scripts/backup.sh; then stopped and restored with
    scripts/restore.sh into the fresh cluster, whose roles are named as compose names them."""
    made = original.script(sys.executable, "-c", DATA)
    data = json.loads(made.strip().splitlines()[-1])
    backup = tmp_path_factory.mktemp("backup") / "2026-12-07"
    with original.serving("backup-original") as server:
        _assert_works(server.url, registry, data, tmp_path_factory.mktemp("before"))
        verified = original.script(sys.executable, "manage.py", "verify_audit_trail")
        head = verified.strip().rsplit(" head ", 1)[1]
        original.script(str(ROOT / "scripts" / "backup.sh"), str(backup))
    owner_url = fresh_cluster.replace("postgres@", "swrconsole_owner@") + "/swrconsole"
    runtime_url = fresh_cluster.replace("postgres@", "swrconsole@") + "/swrconsole"
    keys = tmp_path_factory.mktemp("restored-keys")
    console = Console(_environment(owner_url, runtime_url, keys, registry.address), original.port)
    console.script(str(ROOT / "scripts" / "restore.sh"), str(backup))
    return Restored(console, data, head)


def _assert_works(url: str, registry: RunningRegistry, data: dict, workdir: Path) -> None:
    """The long-term credential logs in at the registry; the access key signs a call."""
    assert_ok(Skopeo(workdir).login(registry.address, data["username"], data["password"]))
    swr = swr_client(url, data["ak"], data["sk"], data["project"])
    listed = swr.list_instance_lt_credentials(
        ListInstanceLtCredentialsRequest(instance_id=data["registry"])
    )
    assert [item.name for item in listed.auth_tokens] == ["ci-robot"]


def test_a_restored_console_serves_the_same_credentials_and_access_keys(
    restored: Restored, registry: RunningRegistry, tmp_path: Path
) -> None:
    with restored.console.serving("backup-restored") as server:
        _assert_works(server.url, registry, restored.secrets, tmp_path)
        assert "ERROR" not in server.log_text()


def test_the_restored_audit_trail_verifies_against_the_head_recorded_before_the_backup(
    restored: Restored,
) -> None:
    verified = restored.console.script(
        sys.executable, "manage.py", "verify_audit_trail", "--expect-head", restored.head
    )
    assert "The audit trail verifies" in verified
    position = int(restored.head.split(":")[0])
    assert int(verified.strip().rsplit(" head ", 1)[1].split(":")[0]) >= position > 0


def test_restore_refuses_a_database_that_is_not_empty(restored: Restored, tmp_path: Path) -> None:
    backup = tmp_path / "again"
    restored.console.script(str(ROOT / "scripts" / "backup.sh"), str(backup))
    result = run(
        str(ROOT / "scripts" / "restore.sh"), str(backup), cwd=ROOT, env=restored.console.env
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "already holds" in result.stderr
    assert "restore into a new, empty one" in result.stderr
