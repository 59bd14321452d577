"""What tests share that is not a fixture: users, clients, credentials, URLs, requests.

Fixtures are in conftest.py; test modules import helpers from here, never from each other."""

from __future__ import annotations

import base64
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import jwt
from cryptography import x509
from django.contrib.auth.models import Group
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from credentials.models import (
    AccessKey,
    Actor,
    AuditEvent,
    LongTermCredential,
    Organization,
    RefreshToken,
    Registry,
    TemporaryCredential,
    User,
)

PASSWORD = "correct horse battery staple"
# The long-term CSV's header line as users see it: the contract the tests hold the console to
# (not built from login_formats, so a change there is a failing test, not a silent one).
LONG_TERM_CSV_HEADER_LINE = (
    "Credential Name,Username,Password,Registry,Login Command,Created At,Expires At"
)
# Where the tests that move the clock (time_machine) stand it.
NOW = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)


# Every credential password a browser test was shown; the last test greps the logs for them.
SEEN_SECRETS: list[str] = []


def make_user(username: str, **extra: object) -> User:
    return User.objects.create_user(username=username, password=PASSWORD, **extra)


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def new_credential(
    owner: User, registry: Registry, name: str, **fields: object
) -> tuple[LongTermCredential, str]:
    """A long-term credential of `owner` (with `fields`, e.g. expires_at), and its password."""
    return LongTermCredential.objects.create_for(
        owner=owner, registry=registry, name=name, by=Actor(user=owner), **fields
    )


def make_credential(owner: User, registry: Registry, name: str) -> LongTermCredential:
    """A long-term credential of `owner` (its password unused)."""
    return new_credential(owner, registry, name)[0]


def permit(
    registry: Registry,
    where: str,
    level: int,
    *,
    user: User | None = None,
    group: Group | None = None,
) -> Organization:
    """Give `user` or `group` `level` (credentials.rules.READ, EDIT, MANAGE) on `where` of
    `registry` — an organization (`team-a`) or a repository in it (`team-a/app`) — as the
    operator's `manage.py grant_permissions` does, the organization created if missing."""
    name, _, repository = where.partition("/")
    operator = Actor(user=None, username="tests", channel=AuditEvent.Channel.SYSTEM)
    organization = Organization.objects.filter(registry=registry, name=name).first()
    if organization is None:
        organization = Organization.objects.create_for(registry=registry, name=name, by=operator)
    organization.grant(level=level, by=operator, user=user, group=group, repository=repository)
    return organization


def mint_temporary(user: User, registry: Registry) -> tuple[TemporaryCredential, str]:
    """A temporary credential of `user` as Generate mints one, and its password."""
    return TemporaryCredential.objects.issue(registry=registry, by=Actor(user=user), kind="image")


def new_access_key(user: User) -> tuple[AccessKey, str]:
    """An access key of `user`, made by the user, and its secret key."""
    return AccessKey.objects.create_for(user=user, by=Actor(user=user))


def tab_url(registry: Registry) -> str:
    return reverse("long_term_tab", args=[registry.public_id])


def tab_page(client: Client, registry: Registry) -> str:
    """The long-term tab as `client` sees it."""
    response = client.get(tab_url(registry))
    assert response.status_code == 200
    return response.content.decode()


def op_url(operation: str, credential: LongTermCredential) -> str:
    return reverse(
        f"{operation}_long_term", args=[credential.registry.public_id, credential.public_id]
    )


def create_url(registry: Registry) -> str:
    return reverse("create_long_term", args=[registry.public_id])


def create(client: Client, registry: Registry, name: str, **headers: str):
    return client.post(create_url(registry), {"name": name}, headers=headers)


def every_row_of_every_table() -> str:
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            chunks.append(repr(cursor.fetchall()))
    return "\n".join(chunks)


def basic(username: str, password: str | bytes) -> str:
    raw = password if isinstance(password, bytes) else password.encode()
    return "Basic " + base64.b64encode(username.encode() + b":" + raw).decode()


def ask(client: Client, authorization: str | None, service: str, *scopes: str):
    headers = {"Authorization": authorization} if authorization else {}
    query = {"service": service, "scope": list(scopes)} if scopes else {"service": service}
    return client.get("/service/token", query, headers=headers)


def login_failures():
    """The audit events of registry logins the token service refused (GET and POST)."""
    return AuditEvent.objects.filter(action=AuditEvent.Action.REGISTRY_LOGIN_FAILED)


ROOT = Path(__file__).resolve().parent.parent


def iam_body(
    username: str = "alice",
    password: str = PASSWORD,
    *,
    domain: str = "acme",
    project: str | None = "cn-north-4",
) -> dict:
    """An IAM password grant (`POST /v3/auth/tokens`), as Huawei's SDK sends it; scoped to
    `project` unless None."""
    user = {"domain": {"name": domain}, "name": username, "password": password}
    auth: dict = {"identity": {"methods": ["password"], "password": {"user": user}}}
    if project is not None:
        auth["scope"] = {"project": {"name": project}}
    return {"auth": auth}


def run(
    *command: str, timeout: float = 120, check: bool = False, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    """Run a program to its end, its output captured as text (the caller judges its status)."""
    return subprocess.run(
        list(command), capture_output=True, text=True, timeout=timeout, check=check, **kwargs
    )


def manage(
    *args: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`python manage.py ARGS` in a fresh interpreter with only `env` set."""
    return run(sys.executable, "manage.py", *args, cwd=ROOT, env=env, timeout=timeout)


def settings_import(
    env: dict[str, str], code: str = "import django; django.setup()"
) -> subprocess.CompletedProcess[str]:
    """Start Django in a fresh interpreter with only `env` (and the settings module) set; `code`
    is what it runs."""
    base = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "swrconsole.settings"}
    return run(sys.executable, "-c", code, cwd=ROOT, env=base | env, timeout=60)


def race(target: Callable[[], object], threads: int, timeout: float = 120) -> list[object]:
    """Run `target` in `threads` threads released together (a barrier): what each returned, or
    the exception it raised, in the order they finished. Each thread closes its own database
    connections."""
    barrier = threading.Barrier(threads)
    outcomes: list[object] = []

    def attempt() -> None:
        try:
            barrier.wait(timeout=30)
            outcomes.append(target())
        except BaseException as exc:  # reported to the test, in its thread
            outcomes.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=attempt) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=timeout)
        assert not worker.is_alive(), f"a racing thread did not finish within {timeout:g} s"
    return outcomes


# --- The token service's OAuth2 POST flow (tests/test_registry_oauth.py and
# tests/test_registry_refresh_tokens.py) ---------------------------------------------------


def oauth_post(client: Client, fields: dict[str, str] | list[tuple[str, str]], **extra: str):
    return client.post(
        "/service/token",
        urlencode(fields),
        content_type="application/x-www-form-urlencoded",
        **extra,
    )


def password_grant(cred: LongTermCredential | TemporaryCredential, password: str, service: str,
                   **more: str) -> dict[str, str]:  # fmt: skip
    return {
        "grant_type": "password",
        "client_id": "containerd-client",
        "username": cred.username,
        "password": password,
        "service": service,
        **more,
    }


def refresh_grant(token: str, service: str, **more: str) -> dict[str, str]:
    return {
        "grant_type": "refresh_token",
        "client_id": "docker",
        "refresh_token": token,
        "service": service,
        **more,
    }


def token_claims(token: str, token_keys: tuple[str, str], audience: str) -> dict:
    with open(token_keys[1], "rb") as handle:
        key = x509.load_pem_x509_certificate(handle.read()).public_key()
    return jwt.decode(token, key, algorithms=["ES256"], audience=audience)


def assert_oauth_refused(response) -> None:
    assert response.status_code == 401, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "authentication required",
    }
    assert response["WWW-Authenticate"] == 'Basic realm="SWR Console registry token service"'


def oauth_stored_rows() -> int:
    """What a request could have stored: failed-login events and refresh tokens."""
    return login_failures().count() + RefreshToken.objects.count()


def apply_credential_change(change: str, cred: LongTermCredential, owner: User) -> None:
    """What ends a long-term credential's logins: `change` is disable, delete, deactivate
    (its owner), federate (its owner) or expire."""
    if change == "disable":
        cred.disable(by=Actor(user=owner))
    elif change == "delete":
        cred.delete_by(by=Actor(user=owner))
    elif change == "deactivate":
        User.objects.filter(pk=owner.pk).update(is_active=False)
    elif change == "federate":
        User.objects.filter(pk=owner.pk).update(is_federated=True)
    elif change == "expire":  # its expires_at reached, as the clock would
        LongTermCredential.objects.filter(pk=cred.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
