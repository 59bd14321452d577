"""Faults under gunicorn with the production settings: the database restarting under load,
and an upstream that accepts connections and never answers."""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from django.db import connection
from django.urls import reverse

from credentials.models import LongTermCredential, Registry, User
from tests.servers import console_headers, free_port, gunicorn, pg_ctl, session_cookie_for

pytestmark = pytest.mark.django_db(transaction=True)

REQUEST_TIMEOUT = 20  # a request that takes longer counts as a hang


@dataclass
class Outcome:
    kind: str
    status: int
    seconds: float
    name: str = ""
    started: float = 0.0


class Load:
    """A bounded loop of creates and health checks from a few threads."""

    def __init__(self, base: str, create_url: str, headers: dict[str, str]) -> None:
        self.base, self.create_url, self.headers = base, create_url, headers
        self.outcomes: list[Outcome] = []
        self.lock = threading.Condition()
        self.stop = threading.Event()
        self.names = (f"load-{n}" for n in itertools.count())

    def _one(self, http: requests.Session) -> None:
        with self.lock:
            name = next(self.names)
        started = time.monotonic()
        kind = "create" if int(name.split("-")[1]) % 2 == 0 else "health"
        try:
            if kind == "create":
                response = http.post(
                    self.create_url,
                    data={"name": name},
                    headers=self.headers,
                    timeout=REQUEST_TIMEOUT,
                )
            else:
                response = http.get(f"{self.base}/healthz", timeout=REQUEST_TIMEOUT)
            status = response.status_code
        except requests.RequestException:
            status = -1
        with self.lock:
            self.outcomes.append(Outcome(kind, status, time.monotonic() - started, name, started))
            self.lock.notify_all()

    def run(self) -> None:
        with requests.Session() as http:
            deadline = time.monotonic() + 120  # bounded even if the test forgets to stop it
            while not self.stop.is_set() and time.monotonic() < deadline:
                self._one(http)

    def wait_for(self, predicate, timeout: float = 60) -> None:
        with self.lock:
            assert self.lock.wait_for(lambda: predicate(self.outcomes), timeout=timeout), (
                f"load did not reach the expected state; last outcomes: {self.outcomes[-10:]}"
            )


@pytest.fixture
def load_user(owner: User) -> User:
    return owner


@pytest.mark.postgresql(reason="restarts the PostgreSQL server under load")
def test_a_database_restart_under_load_gives_503s_then_recovers_without_losing_anything(
    load_user: User, registry: Registry
) -> None:
    with gunicorn(
        "db-restart",
        SECURE_SSL_REDIRECT="false",
        LONG_TERM_CREDENTIALS_PER_REGISTRY="100000",
        DATABASE_CONNECT_TIMEOUT="3",
    ) as server:
        create_url = server.url + reverse("create_long_term", args=[registry.public_id])
        load = Load(server.url, create_url, console_headers(session_cookie_for(load_user)))
        threads = [threading.Thread(target=load.run) for _ in range(4)]
        for thread in threads:
            thread.start()
        try:
            load.wait_for(lambda o: sum(x.status == 200 and x.kind == "create" for x in o) >= 10)
            pg_ctl("stop")
            stopped_at = time.monotonic()
            load.wait_for(lambda o: sum(x.status == 503 and x.started > stopped_at for x in o) >= 8)
        finally:
            pg_ctl("start")
        started_at = time.monotonic()
        load.wait_for(lambda o: any(x.status == 200 and x.started > started_at for x in o))
        recovered_at = time.monotonic()
        load.wait_for(lambda o: sum(x.started > recovered_at for x in o) >= 20)
        load.stop.set()
        for thread in threads:
            thread.join(timeout=60)

    outcomes = load.outcomes
    assert {x.status for x in outcomes} <= {200, 503}, sorted({x.status for x in outcomes})
    outage = [x for x in outcomes if stopped_at < x.started < started_at]
    assert outage
    assert all(x.status == 503 for x in outage if x.started > stopped_at + 1)
    assert max(x.seconds for x in outcomes) < 10, "a request hung during the outage"
    after = [x for x in outcomes if x.started > recovered_at]
    assert after
    assert all(x.status == 200 for x in after)

    connection.close()  # the test's own connection died with the server
    acknowledged = {x.name for x in outcomes if x.kind == "create" and x.status == 200}
    stored = list(
        LongTermCredential.objects.filter(name__startswith="load-").values_list("name", flat=True)
    )
    assert len(stored) == len(set(stored)), "a credential was stored twice"
    assert set(stored) == acknowledged, (
        "a credential was lost, or stored without being acknowledged"
    )
    assert "Traceback" not in server.log_text()


class BlackHole:
    """An upstream that accepts connections and never answers."""

    def __init__(self) -> None:
        self.port = free_port()
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(64)
        self.accepted: list[socket.socket] = []
        self.changed = threading.Condition()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with self.changed:
                self.accepted.append(conn)
                self.changed.notify_all()

    def close(self) -> None:
        self.listener.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def black_hole() -> Iterator[BlackHole]:
    hole = BlackHole()
    yield hole
    hole.close()


def test_an_upstream_that_never_answers_times_out_and_the_console_stays_responsive(
    owner: User, registry: Registry, black_hole: BlackHole
) -> None:
    with gunicorn(
        "black-hole",
        SECURE_SSL_REDIRECT="false",
        SWR_API_URL=f"http://127.0.0.1:{black_hole.port}",
        SWR_AUTH_TOKEN="static-token",
        SWR_TIMEOUT_READ="3",
        TEMPORARY_CREDENTIALS_PER_MINUTE="100",
        # The shipped default: even if all six hung requests land on one worker, it keeps
        # two threads for everything else.
        GUNICORN_THREADS="8",
    ) as server:
        headers = console_headers(session_cookie_for(owner))
        generate_url = server.url + reverse("generate_temporary", args=[registry.public_id])
        results: list[tuple[int, float, str]] = []

        def generate() -> None:
            started = time.monotonic()
            response = requests.post(
                generate_url, data={"kind": "image"}, headers=headers, timeout=30
            )
            results.append((response.status_code, time.monotonic() - started, response.text))

        generators = [threading.Thread(target=generate) for _ in range(6)]
        for thread in generators:
            thread.start()
        with black_hole.changed:
            assert black_hole.changed.wait_for(lambda: len(black_hole.accepted) >= 6, timeout=20)

        tab_url = server.url + reverse("long_term_tab", args=[registry.public_id])
        started = time.monotonic()
        tab = requests.get(tab_url, headers=headers, timeout=10)
        tab_seconds = time.monotonic() - started
        pending = 6 - len(results)
        for thread in generators:
            thread.join(timeout=30)

    assert tab.status_code == 200
    assert tab_seconds < 2
    assert pending == 6, (
        "the tab should have been answered while every generate was waiting",
        [(s, round(t, 2), x[-300:]) for s, t, x in results],
    )
    assert len(results) == 6
    for status, seconds, text in results:
        assert status == 502
        assert "SWR could not be reached just now" in text
        assert 2.5 < seconds < 10
