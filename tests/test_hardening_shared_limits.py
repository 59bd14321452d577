"""The limits hold across processes: two gunicorn workers, and two gunicorn instances, sharing
one throwaway redis-server (issue 14, finding 9); so does the memory of signed writes already
received (issue 23, item 5)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import redis
import requests
from django.core.cache import caches
from django.test import Client

from credentials.models import AuditEvent, LongTermCredential, Registry, TemporaryCredential, User
from tests.helpers import PASSWORD, basic, iam_body, new_access_key
from tests.huawei_sdk import sign
from tests.servers import Gunicorn, gunicorn, redis_server

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.database_independent(
        reason="the limits live in Redis; the database only holds the credentials"
    ),
]

LIMIT = 5
# A new connection each time (the workers' accept() race spreads them); HTTPS as the proxy says.
HEADERS = {"Connection": "close", "X-Forwarded-Proto": "https"}


@pytest.fixture(scope="module")
def redis_server_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture
def redis_url(redis_server_url: str) -> str:
    """The module's redis-server, emptied: each test starts with no counters."""
    redis.Redis.from_url(redis_server_url).flushdb()
    return redis_server_url


def limits(redis_url: str, token_keys: tuple[str, str], **extra: str) -> dict[str, str]:
    key, cert = token_keys
    return {
        "CACHE_URL": redis_url,
        # A day's window: a window ending during the test (they are fixed) would reset it.
        "REGISTRY_LOGIN_FAILURES_PER_USERNAME": f"{LIMIT}/d",
        "SIGN_IN_FAILURES_PER_USERNAME": f"{LIMIT}/d",
        "REGISTRY_TOKEN_KEY_FILE": key,
        "REGISTRY_TOKEN_CERT_FILE": cert,
        "GUNICORN_ACCESS_LOG": "-",
        **extra,
    }


def registry_login(url: str, credential: LongTermCredential, password: str) -> int:
    return requests.get(
        f"{url}/service/token",
        params={"service": credential.registry.address},
        headers={"Authorization": basic(credential.username, password), **HEADERS},
        timeout=30,
    ).status_code


def iam_sign_in(url: str, password: str) -> int:
    return requests.post(
        f"{url}/v3/auth/tokens", json=iam_body("alice", password), headers=HEADERS, timeout=30
    ).status_code


def checked() -> tuple[int, int]:
    """Failures whose password was actually checked: registry logins, sign-ins."""
    registry = AuditEvent.objects.filter(
        action="registry.login_failed", detail__reason="wrong, disabled or expired credential"
    ).count()
    sign_in = (
        AuditEvent.objects.filter(action="console.sign_in_failed")
        .exclude(detail__has_key="throttled")
        .count()
    )
    return registry, sign_in


def attack(urls: list[str], credential: LongTermCredential) -> None:
    """20 wrong registry passwords and 20 wrong sign-ins, spread over `urls`, one at a time
    (requests in flight together could each pass the check before any reaches the limit)."""
    results = [registry_login(urls[n % len(urls)], credential, "wrong") for n in range(20)]
    results += [iam_sign_in(urls[n % len(urls)], "wrong") for n in range(20)]
    assert set(results) == {401}


def serving_pids(server: Gunicorn) -> set[int]:
    pids = set()
    for line in server.log_text().splitlines():
        if '"gunicorn.access"' in line:
            pids.add(json.loads(line[line.index("{") :])["pid"])
    return pids


def test_the_limits_hold_across_two_gunicorn_workers(
    redis_url: str, token_keys: tuple[str, str], credential: tuple[LongTermCredential, str]
) -> None:
    cred, password = credential
    with gunicorn("limits-workers", **limits(redis_url, token_keys, WEB_CONCURRENCY="2")) as one:
        attack([one.url], cred)
        assert len(serving_pids(one)) == 2  # both workers took part
        assert checked() == (LIMIT, LIMIT)
        assert registry_login(one.url, cred, password) == 401
        assert iam_sign_in(one.url, PASSWORD) == 401


def test_the_limits_hold_across_two_gunicorn_instances(
    redis_url: str, token_keys: tuple[str, str], credential: tuple[LongTermCredential, str]
) -> None:
    cred, password = credential
    settings = limits(redis_url, token_keys, WEB_CONCURRENCY="1")
    with gunicorn("limits-a", **settings) as first, gunicorn("limits-b", **settings) as second:
        attack([first.url, second.url], cred)
        assert checked() == (LIMIT, LIMIT)
        for server in (first, second):
            assert registry_login(server.url, cred, password) == 401
            assert iam_sign_in(server.url, PASSWORD) == 401


def test_a_signed_write_replayed_to_another_instance_is_refused(
    redis_url: str, token_keys: tuple[str, str], owner: User, registry: Registry
) -> None:
    access_key, secret_key = new_access_key(owner)
    settings = limits(redis_url, token_keys, WEB_CONCURRENCY="1")
    with gunicorn("replay-a", **settings) as first, gunicorn("replay-b", **settings) as second:
        path = f"/v2/{registry.project_id}/instances/{registry.public_id}/temp-credential"
        signed = sign(
            access_key.access_key_id, secret_key, "POST", path, host=first.url.split("//")[1]
        )

        def send(server: Gunicorn) -> requests.Response:
            headers = {**signed.header_params, **HEADERS}
            return requests.post(f"{server.url}{signed.uri}", headers=headers, timeout=30)

        assert send(first).status_code == 201
        replayed = send(second)
        assert replayed.status_code == 401
        assert "already received" in replayed.json()["error_msg"]
    assert TemporaryCredential.objects.count() == 1
    # Kept in Redis until the date check would refuse it: 15 minutes after X-Sdk-Date.
    (kept,) = redis.Redis.from_url(redis_url).keys("*api-signature:*")
    assert 14 * 60 < redis.Redis.from_url(redis_url).ttl(kept) <= 15 * 60 + 2


def test_a_token_request_checks_its_counters_in_one_redis_command_on_a_kept_client(
    redis_url: str, credential: tuple[LongTermCredential, str], token_keys: object, settings
) -> None:
    """The token's one round trip to Redis (an MGET of its counters), sent by the redis-py
    client the thread keeps: Django's Redis cache made a new one for every command, which cost
    more CPU than the command (docs/PERFORMANCE.md)."""
    cred, password = credential
    backend = {"BACKEND": "credentials.security.cache.ResilientRedisCache", "LOCATION": redis_url}
    client = Client()
    settings.CACHES = {**settings.CACHES, "default": backend}
    shared = caches["default"]
    assert shared._cache.get_client() is shared._cache.get_client(write=True)

    def token() -> int:
        return client.get(
            "/service/token",
            {"service": cred.registry.address},
            HTTP_AUTHORIZATION=basic(cred.username, password),
        ).status_code

    assert token() == 200  # the first from this address also remembers it
    admin = redis.Redis.from_url(redis_url)  # one connection: its handshake counted before
    before = _commands(admin)
    assert token() == 200
    after = _commands(admin)
    sent = {name: after[name] - before.get(name, 0) for name in after if name != "info"}
    assert {name: calls for name, calls in sent.items() if calls} == {"mget": 1}


def _commands(admin: redis.Redis) -> dict[str, int]:
    stats = admin.info("commandstats")
    return {name.removeprefix("cmdstat_"): row["calls"] for name, row in stats.items()}
