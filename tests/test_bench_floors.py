"""The benchmark's floors (bench/floors.py) still run against the code they stand beside: a
floor broken by a move elsewhere stops `make bench-http` at its first check, long after."""

from __future__ import annotations

import pytest
import redis
from django.test import Client, override_settings

from bench import floors
from credentials.models import Registry, User
from credentials.rules import EDIT
from tests.helpers import basic, client_for, new_credential, permit, token_claims
from tests.servers import redis_server

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("token_keys")]


@override_settings(ROOT_URLCONF="bench.urls")
def test_the_floors_answer_as_the_benchmark_expects(owner: User, registry: Registry) -> None:
    client = client_for(owner)
    floors = f"/bench-floor/registries/{registry.public_id}"
    first = client.get(f"{floors}/cached-page")
    assert first.status_code == 200
    assert "Long-Term Credentials" in first.content.decode()  # the real tab's page, stored
    assert client.get(f"{floors}/cached-page").content == first.content  # then from the cache
    generated = client.post(f"{floors}/generate", {"kind": "image"})
    assert generated.status_code == 200
    assert generated.content.decode().startswith("docker login -u ")
    assert client.post("/bench-floor/signed-in-post").status_code == 200
    credential, password = new_credential(owner, registry, "ci-bot")
    token = client.get(
        "/bench-floor/token", HTTP_AUTHORIZATION=basic(credential.username, password)
    )
    assert token.status_code == 200
    assert token.content.count(b".") == 2  # a JWT
    posted = client.post(
        "/bench-floor/token-post",
        {"username": credential.username, "password": password, "service": "registry"},
    )
    assert posted.status_code == 200
    assert posted.content.count(b".") == 2
    wrong = client.post("/bench-floor/token-post", {"username": credential.username})
    assert wrong.status_code == 401


@override_settings(ROOT_URLCONF="bench.urls")
def test_the_token_floor_with_permissions_grants_the_owners_level_there(
    owner: User, registry: Registry, token_keys
) -> None:
    permit(registry, "team-a", EDIT, user=owner)
    credential, password = new_credential(owner, registry, "ci-bot")
    client = Client()

    def access(scope: str) -> list:
        answer = client.get(
            "/bench-floor/token-with-permissions",
            {"service": registry.address, "scope": scope},
            HTTP_AUTHORIZATION=basic(credential.username, password),
        )
        assert answer.status_code == 200
        return token_claims(answer.content.decode(), token_keys, registry.address)["access"]

    assert access("repository:team-a/app:pull") == [
        {"type": "repository", "name": "team-a/app", "actions": ["pull", "push"]}
    ]
    assert access("repository:team-b/app:pull") == [
        {"type": "repository", "name": "team-b/app", "actions": []}
    ]


def _redis_commands(admin: redis.Redis) -> dict[str, int]:
    stats = admin.info("commandstats")
    return {name.removeprefix("cmdstat_"): row["calls"] for name, row in stats.items()}


def test_the_token_floor_with_redis_adds_one_mget_to_the_token_with_permissions(
    owner: User, registry: Registry, token_keys
) -> None:
    permit(registry, "team-a", EDIT, user=owner)
    credential, password = new_credential(owner, registry, "ci-bot")
    with redis_server() as url, override_settings(ROOT_URLCONF="bench.urls"):
        floors._redis_clients[:] = [redis.Redis.from_url(url)]
        try:
            admin = redis.Redis.from_url(url)  # one connection: its handshake counted before
            before = _redis_commands(admin)
            answer = Client().get(
                "/bench-floor/token-with-redis",
                {"service": registry.address, "scope": "repository:team-a/app:pull"},
                HTTP_AUTHORIZATION=basic(credential.username, password),
            )
            after = _redis_commands(admin)
        finally:
            floors._redis_clients.clear()
    assert answer.status_code == 200
    claims = token_claims(answer.content.decode(), token_keys, registry.address)
    assert claims["access"][0]["actions"] == ["pull", "push"]
    # Leaving out our INFO, and the HELLO that opens the floor's connection (once a process).
    sent = {n: after[n] - before.get(n, 0) for n in after if n not in ("info", "hello")}
    assert {name: calls for name, calls in sent.items() if calls} == {"mget": 1}
