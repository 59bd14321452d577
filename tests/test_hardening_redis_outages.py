"""A real Redis put into each way it fails: stopped, hung, out of memory, read-only (issue 23,
items 2 and 3). Every sign-in and token request is still answered, never with a 500; one
address gets the limit once per process, whichever thread serves it (in this process, and in a
threaded gunicorn with requests in flight together); the outage is logged once, without the
Redis password; the counters go back to Redis once it takes writes again."""

from __future__ import annotations

import logging
import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, suppress

import pytest
import redis
import requests
from django.core.cache import caches
from django.db import connections
from django.test import Client, override_settings

from credentials.models import AuditEvent, LongTermCredential, User
from credentials.security import cache as resilient
from tests.helpers import PASSWORD, ask, basic, iam_body
from tests.servers import free_port, gunicorn, redis_server

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("token_keys"),
    pytest.mark.database_independent(
        reason="Redis failing is the subject; the database only holds the credentials"
    ),
]

STATES = ["stopped", "hung", "out of memory", "read-only"]
ERRORS = {
    "stopped": "ConnectionError",
    "hung": "TimeoutError",
    "out of memory": "OutOfMemoryError",
    "read-only": "ReadOnlyError",
}
LIMIT = 5
THREADS = 4
REDIS_PASSWORD = "redis-password-never-logged"
OWNER_AT = "10.0.0.7"
ATTACKER_AT = "10.0.0.66"


class FailingRedis:
    """A throwaway redis-server (with a password) that a test puts into a failing state and
    back."""

    def __init__(self) -> None:
        self.port = free_port()
        self._server = ExitStack()
        self._start()

    def _start(self) -> None:
        self.url = self._server.enter_context(redis_server(self.port, REDIS_PASSWORD))
        self.pid = self.admin().info("server")["process_id"]

    def admin(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=5)

    def counter_keys(self) -> list[bytes]:
        """Every key but the one the cache writes to see whether Redis takes writes."""
        return [key for key in self.admin().scan_iter() if b"redis-probe" not in key]

    def fail(self, state: str) -> None:
        if state == "stopped":
            self._server.close()
        elif state == "hung":  # accepts connections, answers nothing
            os.kill(self.pid, signal.SIGSTOP)
        elif state == "out of memory":  # every write refused with OOM
            self.admin().config_set("maxmemory-policy", "noeviction")
            self.admin().config_set("maxmemory", 1)
        else:  # a replica of a master that does not exist: every write refused with READONLY
            self.admin().replicaof("127.0.0.1", free_port())

    def recover(self, state: str) -> None:
        if state == "stopped":
            self._start()
        elif state == "hung":
            os.kill(self.pid, signal.SIGCONT)
        elif state == "out of memory":
            self.admin().config_set("maxmemory", 0)
        else:
            self.admin().replicaof("NO", "ONE")

    def close(self) -> None:
        with suppress(ProcessLookupError):  # already stopped
            os.kill(self.pid, signal.SIGCONT)  # a hung process would not see SIGTERM
        self._server.close()


@pytest.fixture
def failing_redis() -> Iterator[FailingRedis]:
    server = FailingRedis()
    try:
        with override_settings(
            CACHES={
                "default": {
                    "BACKEND": "credentials.security.cache.ResilientRedisCache",
                    "LOCATION": server.url,
                },
                "pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
            },
            REGISTRY_LOGIN_FAILURES_PER_USERNAME=f"{LIMIT}/d",
            SIGN_IN_FAILURES_PER_USERNAME=f"{LIMIT}/d",
        ):
            yield server
    finally:
        server.close()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """Moves the outage clock (time.monotonic) forward by the seconds given."""
    real = time.monotonic
    offset = [0.0]
    monkeypatch.setattr(time, "monotonic", lambda: real() + offset[0])

    def move(seconds: float) -> None:
        offset[0] += seconds

    return move


@contextmanager
def taking_turns(count: int) -> Iterator[Callable[[list[Callable[[], object]]], list[object]]]:
    """`count` threads that run the jobs given one at a time, job n in thread n % count (jobs
    in flight together could each pass the check before any reaches the limit: the bound is
    about how many are checked, one after another). Yields the function that runs them."""
    inboxes: list[queue.Queue] = [queue.Queue() for _ in range(count)]
    results: queue.Queue = queue.Queue()

    def serve(inbox: queue.Queue) -> None:
        try:
            while (job := inbox.get()) is not None:
                try:
                    results.put(job())
                except BaseException as exc:  # reported to the test, in its thread
                    results.put(exc)
        finally:
            connections.close_all()

    def run(jobs: list[Callable[[], object]]) -> list[object]:
        answers = []
        for number, job in enumerate(jobs):
            inboxes[number % count].put(job)
            answer = results.get(timeout=60)
            if isinstance(answer, BaseException):
                raise answer
            answers.append(answer)
        return answers

    workers = [threading.Thread(target=serve, args=(inbox,)) for inbox in inboxes]
    for worker in workers:
        worker.start()
    try:
        yield run
    finally:
        for inbox in inboxes:
            inbox.put(None)
        for worker in workers:
            worker.join(timeout=60)


def registry_login(credential: LongTermCredential, password: str, address: str) -> int:
    client = Client(REMOTE_ADDR=address)
    authorization = basic(credential.username, password)
    return ask(client, authorization, credential.registry.address).status_code


def iam(password: str, address: str) -> int:
    body = iam_body("alice", password)
    client = Client(REMOTE_ADDR=address)
    return client.post("/v3/auth/tokens", body, content_type="application/json").status_code


def sign_in(password: str, address: str) -> int:
    client = Client(REMOTE_ADDR=address)
    return client.post("/accounts/login/", {"username": "alice", "password": password}).status_code


def checked() -> tuple[int, int]:
    """Wrong guesses whose password was actually checked: registry logins, sign-ins."""
    registry = AuditEvent.objects.filter(
        action="registry.login_failed", detail__reason="wrong, disabled or expired credential"
    ).count()
    signed_in = (
        AuditEvent.objects.filter(action="console.sign_in_failed")
        .exclude(detail__has_key="throttled")
        .count()
    )
    return registry, signed_in


def outage_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == resilient.__name__]


def timed(job: Callable[[], int]) -> Callable[[], tuple[int, float, int]]:
    """The job's status, how long it took, and which cache object its thread used."""

    def run() -> tuple[int, float, int]:
        started = time.monotonic()
        status = job()
        return status, time.monotonic() - started, id(caches["default"])

    return run


@pytest.mark.parametrize("state", STATES)
def test_during_a_redis_outage_one_address_gets_the_limit_once_per_process_whatever_the_thread(
    state: str,
    failing_redis: FailingRedis,
    credential: tuple[LongTermCredential, str],
    owner: User,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cred, password = credential
    rounds = 6 * THREADS  # six guesses per thread and door: past the limit in any one thread
    failing_redis.fail(state)
    with caplog.at_level(logging.WARNING), taking_turns(THREADS) as run:
        registry = run([timed(lambda: registry_login(cred, "wrong", ATTACKER_AT))] * rounds)
        iam_and_form = run(
            [timed(lambda: iam("wrong", ATTACKER_AT)), timed(lambda: sign_in("wrong", ATTACKER_AT))]
            * (rounds // 2)
        )
    # Django gave each thread its own cache object...
    assert len({cache_id for _, _, cache_id in registry + iam_and_form}) == THREADS
    # ...every request was answered (never a 500)...
    assert {status for status, _, _ in registry} == {401}
    assert {status for status, _, _ in iam_and_form[0::2]} == {401}
    assert {status for status, _, _ in iam_and_form[1::2]} == {200, 429}  # form again, refused
    # ...within the socket timeouts (1 s each; redis-py's own retries would add seconds)...
    assert max(seconds for _, seconds, _ in registry + iam_and_form) < 5
    # ...and the guesses checked are the limit, once, in this one process.
    assert checked() == (LIMIT, LIMIT)
    # The attacker's right password is refused; the owner, elsewhere, still gets in.
    assert registry_login(cred, password, ATTACKER_AT) == 401
    assert iam(PASSWORD, ATTACKER_AT) == 401
    assert registry_login(cred, password, OWNER_AT) == 200
    assert iam(PASSWORD, OWNER_AT) == 201
    # Logged once, by the error's class, without the Redis password.
    lines = outage_lines(caplog)
    assert len(lines) == 1
    assert ERRORS[state] in lines[0]
    assert REDIS_PASSWORD not in caplog.text


@pytest.mark.parametrize("state", STATES)
def test_after_a_redis_outage_the_counters_go_back_to_redis_once_it_takes_writes_again(
    state: str,
    failing_redis: FailingRedis,
    credential: tuple[LongTermCredential, str],
    clock: Callable[[float], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    cred, _ = credential
    backend = caches["default"]
    assert isinstance(backend, resilient.ResilientRedisCache)
    failing_redis.fail(state)
    with caplog.at_level(logging.WARNING):
        assert registry_login(cred, "wrong", ATTACKER_AT) == 401
        assert backend.redis_up is False
        clock(resilient.RETRY_SECONDS + 1)
        # Tried again, and still failing (reads alone prove nothing: a Redis out of memory or
        # read-only answers them): still counting in memory, not logged again.
        assert registry_login(cred, "wrong", ATTACKER_AT) == 401
        assert backend.redis_up is False
        failing_redis.recover(state)
        assert registry_login(cred, "wrong", ATTACKER_AT) == 401
        keys_during = failing_redis.counter_keys()
        clock(resilient.RETRY_SECONDS + 1)
        assert registry_login(cred, "wrong", ATTACKER_AT) == 401
        keys_after = failing_redis.counter_keys()
    assert keys_during == []  # counted in memory until the retry time passed
    assert keys_after != []  # back in Redis once it took a write
    assert backend.redis_up is True
    lines = outage_lines(caplog)
    assert len(lines) == 2
    assert ERRORS[state] in lines[0]
    assert "answers again" in lines[1]


# --- A threaded gunicorn: requests in flight together ----------------------------------------

GUNICORN_THREADS = 4
# A new connection each time (spread over the threads), HTTPS as the proxy says.
HEADERS = {"Connection": "close", "X-Forwarded-Proto": "https"}


def over_http(url: str, credential: LongTermCredential, door: str, password: str) -> int:
    if door == "registry":
        return requests.get(
            f"{url}/service/token",
            params={"service": credential.registry.address},
            headers={"Authorization": basic(credential.username, password), **HEADERS},
            timeout=30,
        ).status_code
    body = iam_body("alice", password)
    return requests.post(
        f"{url}/v3/auth/tokens", json=body, headers=HEADERS, timeout=30
    ).status_code


@pytest.mark.parametrize("state", STATES)
def test_during_a_redis_outage_a_threaded_gunicorn_checks_the_limit_and_at_most_its_threads_more(
    state: str,
    failing_redis: FailingRedis,
    token_keys: tuple[str, str],
    credential: tuple[LongTermCredential, str],
) -> None:
    cred, password = credential
    key, cert = token_keys
    limit = 10  # the default per username and address
    settings = {
        "CACHE_URL": failing_redis.url,
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": str(GUNICORN_THREADS),
        "REGISTRY_LOGIN_FAILURES_PER_USERNAME": f"{limit}/d",
        "SIGN_IN_FAILURES_PER_USERNAME": f"{limit}/d",
        "REGISTRY_TOKEN_KEY_FILE": key,
        "REGISTRY_TOKEN_CERT_FILE": cert,
    }
    with gunicorn("redis-outage", **settings) as server:
        failing_redis.fail(state)
        doors = ["registry", "iam"] * (8 * GUNICORN_THREADS * limit // 2)
        with ThreadPoolExecutor(2 * GUNICORN_THREADS) as pool:
            statuses = list(pool.map(lambda d: over_http(server.url, cred, d, "wrong"), doors))
        assert set(statuses) == {401}  # never a 500
        assert over_http(server.url, cred, "registry", password) == 401
        assert over_http(server.url, cred, "iam", PASSWORD) == 401
    # The documented bound, for one process: its limit, and at most the requests already in
    # flight when the limit was reached (one per other thread), not the limit once per thread.
    for guesses in checked():
        assert limit <= guesses <= limit + GUNICORN_THREADS - 1
