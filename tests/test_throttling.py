"""Failed-attempt limits: the check every attempt makes reads and never writes; addresses
are counted as IPv4 addresses or IPv6 /64 prefixes; a limit ends with its window."""

from __future__ import annotations

import inspect
import time

import pytest
from django.core.cache import cache
from django.test import Client

from credentials.models import Registry
from credentials.security import throttling
from swrconsole import rates
from tests.helpers import ask, basic

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("token_keys")]


def test_a_successful_token_request_writes_nothing_to_the_cache(
    client: Client, credential, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    cred, password = credential
    auth = basic(cred.username, password)
    assert ask(client, auth, registry.address).status_code == 200  # Last Used recorded
    writes: list[str] = []
    for method in ("add", "set", "incr", "set_many", "delete"):
        real = getattr(cache, method)
        monkeypatch.setattr(
            cache,
            method,
            lambda *a, _m=method, _real=real, **k: writes.append(_m) or _real(*a, **k),
        )
    for _ in range(3):
        assert ask(client, auth, registry.address).status_code == 200
    assert writes == []
    assert ask(client, basic(cred.username, "wrong"), registry.address).status_code == 401
    assert "incr" in writes or "add" in writes  # failures are counted


def test_an_ipv6_client_is_counted_by_its_64_prefix(
    client: Client, credential, registry: Registry, settings
) -> None:
    settings.REGISTRY_LOGIN_FAILURES_PER_IP = "3/m"
    cred, password = credential
    for number in range(3):  # three addresses, one /64
        client.get(
            "/service/token",
            {"service": registry.address},
            headers={"Authorization": basic(f"cn-north-4@GUESS{number:015}", "x")},
            REMOTE_ADDR=f"2001:db8:1:2::{number + 1}",
        )

    def from_address(address: str) -> int:
        return client.get(
            "/service/token",
            {"service": registry.address},
            headers={"Authorization": basic(cred.username, password)},
            REMOTE_ADDR=address,
        ).status_code

    assert from_address("2001:db8:1:2::99") == 401
    assert from_address("2001:db8:1:3::1") == 200


def test_a_limit_ends_with_its_window(
    client: Client, credential, registry: Registry, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.REGISTRY_LOGIN_FAILURES_PER_USERNAME = "2/m"
    cred, password = credential
    for _ in range(2):
        ask(client, basic(cred.username, "wrong"), registry.address)
    assert ask(client, basic(cred.username, password), registry.address).status_code == 401
    later = time.time() + 121  # past the window, wherever in the minute it began
    monkeypatch.setattr(time, "time", lambda: later)
    assert ask(client, basic(cred.username, password), registry.address).status_code == 200


# --- Rates: read by the console's own parser (swrconsole/rates.py) ------------------------


@pytest.mark.parametrize(
    ("text", "count", "seconds"),
    [
        ("5/m", 5, 60),
        ("10/15m", 10, 900),
        ("30/5m", 30, 300),
        ("3/h", 3, 3600),
        ("100/d", 100, 86400),
        ("2/s", 2, 1),
        ("10/90s", 10, 90),
    ],
)
def test_a_rate_reads_as_its_count_and_its_window_in_seconds(
    text: str, count: int, seconds: int
) -> None:
    assert rates.parse(text) == rates.Rate(count=count, seconds=seconds)
    assert str(rates.parse(text)) == f"{count}/{seconds}s"  # what django-ratelimit is given


@pytest.mark.parametrize(
    "text", ["", "5", "5/", "0/m", "5/0m", "5/M", "5/mm", "five/m", "5/m/s", "\u0665/m", "5 / m"]
)
def test_anything_else_is_not_a_rate(text: str) -> None:
    with pytest.raises(ValueError, match="rate"):
        rates.parse(text)


def test_throttling_uses_no_private_name_of_django_ratelimit() -> None:
    # django-ratelimit's _split_rate is not its API: any release may change or drop it.
    assert "_split_rate" not in inspect.getsource(throttling)
