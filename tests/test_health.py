"""Health: /healthz, the 503 every page answers while the database is down, and the
persistent connection's health check (Django's CONN_HEALTH_CHECKS): a connection the server
ended is replaced before a request uses it."""

from __future__ import annotations

import select
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import IntegrityError, ProgrammingError, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client
from django.urls import reverse

from credentials import registry_cache as catalog
from credentials.api import iam
from credentials.models import Registry, User
from swrconsole import draining
from tests.helpers import iam_body


def test_healthz_answers_200_when_the_database_answers(client: Client, db: None) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "up"}


def test_healthz_answers_a_probe_that_names_the_replica_by_its_own_address(
    client: Client, db: None
) -> None:
    # A load balancer's check and the compose health check address the replica itself
    # (10.0.0.5:8000, 127.0.0.1:8000), not a name in ALLOWED_HOSTS.
    for host in ("10.0.0.5:8000", "web-3:8000"):
        response = client.get("/healthz", HTTP_HOST=host)
        assert response.status_code == 200, host
        assert response.json() == {"status": "ok", "database": "up"}
    assert client.head("/healthz", HTTP_HOST="10.0.0.5:8000").status_code == 200
    # Only /healthz: every page still refuses a host it does not serve, and /healthz other
    # methods.
    assert client.get("/accounts/login/", HTTP_HOST="10.0.0.5:8000").status_code == 400
    assert client.post("/healthz").status_code == 405


def test_healthz_answers_503_while_the_replica_drains_and_pages_are_still_served(
    client: Client, db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(draining, "_draining", threading.Event())
    draining.start()  # what gunicorn's worker does on SIGTERM (swrconsole/gunicorn_worker.py)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "draining"}
    assert "no-cache" in response["Cache-Control"]
    assert client.get("/ping").status_code == 200


@contextmanager
def database_down() -> Iterator[None]:
    """A real failed connection: PostgreSQL at a port where nothing listens, SQLite at a file
    that cannot be opened."""
    if connection.vendor == "sqlite":
        setting, unreachable = "NAME", "/nonexistent-directory/swrconsole.sqlite3"
    else:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            setting, unreachable = "PORT", str(probe.getsockname()[1])
    saved = connection.settings_dict[setting]
    connection.close()
    connection.settings_dict[setting] = unreachable
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict[setting] = saved


def test_healthz_answers_503_when_the_database_is_down(client: Client, db: None) -> None:
    with database_down():
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "down"


@pytest.mark.postgresql(reason="a lost connection inside the test's transaction")
def test_console_pages_answer_503_not_500_when_the_database_is_down(
    owner_client: Client, registry: Registry
) -> None:
    with database_down():
        response = owner_client.get(reverse("long_term_tab", args=[registry.public_id]))
    assert response.status_code == 503
    assert b"cannot reach its database" in response.content


# Only the driver's "cannot reach the database" errors are a 503; any other error, whatever its
# text says, is the ordinary server error page.
NOT_AN_OUTAGE = [
    ValueError("connection reset by peer"),
    ProgrammingError('relation "connection_log" does not exist'),
    IntegrityError('duplicate key value violates unique constraint "connection_pkey"'),
]


@pytest.mark.parametrize("error", NOT_AN_OUTAGE, ids=lambda error: type(error).__name__)
def test_an_error_that_only_mentions_a_connection_is_a_500_not_a_503(
    owner_client: Client, registry: Registry, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    def fail(*args: object) -> None:
        raise error

    monkeypatch.setattr(catalog, "registry", fail)
    owner_client.raise_request_exception = False
    response = owner_client.get(reverse("long_term_tab", args=[registry.public_id]))
    assert response.status_code == 500
    assert b"cannot reach its database" not in response.content
    assert "Retry-After" not in response


@pytest.mark.parametrize("error", NOT_AN_OUTAGE, ids=lambda error: type(error).__name__)
def test_the_api_answers_such_an_error_with_its_500_not_a_503(
    owner: User, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(iam, "check_password", fail)
    response = Client().post("/v3/auth/tokens", iam_body(), content_type="application/json")
    assert response.status_code == 500
    assert response.json()["error_code"] == "SVCSTG.SWR.5000000"
    assert "Retry-After" not in response


@pytest.fixture
def persistent() -> Iterator[BaseDatabaseWrapper]:
    """A connection of its own, set up as gunicorn's threads have theirs."""
    default = connections["default"]
    settings = default.settings_dict | {"CONN_MAX_AGE": 60}  # the test database sets 0
    wrapper = type(default)(settings, "default")
    assert wrapper.settings_dict["CONN_HEALTH_CHECKS"]
    wrapper.ensure_connection()
    yield wrapper
    wrapper.close()


def _next_request(wrapper: BaseDatabaseWrapper) -> None:
    # What Django's request_started handler does, then the check run by the first query.
    wrapper.close_if_unusable_or_obsolete()
    wrapper.close_if_health_check_failed()


def _backend_pid(wrapper: BaseDatabaseWrapper) -> int:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.mark.postgresql(reason="pg_terminate_backend")
@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_ended_is_replaced(persistent: BaseDatabaseWrapper) -> None:
    pid = _backend_pid(persistent)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert cursor.fetchone()[0] is True
    # Wait for the server's goodbye to arrive on the socket (an event, not a sleep).
    readable, _, _ = select.select([persistent.connection.fileno()], [], [], 10)
    assert readable, "the server did not close the terminated connection within 10 s"

    _next_request(persistent)

    assert persistent.connection is None  # closed by the check, so the next query reconnects
    assert _backend_pid(persistent) != pid
