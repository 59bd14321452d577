"""Failed-attempt limits that an attacker elsewhere cannot turn against an account's owner.

Used by console sign-in (pages, admin, built-in IAM), the registry token service and the API's
access-key signatures. Only
failures are counted, in the shared cache (Redis in production, see
credentials/security/cache.py), by three counters per attempt (django-ratelimit windows; rates
read by swrconsole/rates.py):

- per client address (an IPv4 address or an IPv6 /64), across usernames: one address
  guessing many usernames;
- per username *and* address: one address guessing one account's password. A stranger's
  failures lock out only the stranger — the owner, elsewhere, still signs in;
- per username across all addresses, a higher bound: a distributed guess at one account.
  Once it is reached, only addresses that have signed in as that username before (in the
  last KNOWN_ADDRESS_DAYS) are still let through — as "smart lockout" and device cookies do.

The failure that reaches a limit leaves a marker until its window ends, so the check every
attempt makes first reads a handful of keys in one round trip and writes nothing. From an
address that is refused, at most one audit event is written per window, carrying how many
attempts the previous window refused (note_throttled).
"""

from __future__ import annotations

import hashlib
import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django_ratelimit.core import get_usage

from credentials import metrics
from swrconsole import rates

# How long an address one signed in from stays known for that username.
KNOWN_ADDRESS_DAYS = 30


@dataclass(frozen=True)
class Scope:
    per_address: str  # setting: failures from one address, any username
    per_username: str  # setting: failures for one username from one address
    per_username_anywhere: str  # setting: failures for one username from all addresses


SCOPES = {
    "sign-in": Scope(
        "SIGN_IN_FAILURES_PER_IP",
        "SIGN_IN_FAILURES_PER_USERNAME",
        "SIGN_IN_FAILURES_PER_USERNAME_ANYWHERE",
    ),
    "registry-login": Scope(
        "REGISTRY_LOGIN_FAILURES_PER_IP",
        "REGISTRY_LOGIN_FAILURES_PER_USERNAME",
        "REGISTRY_LOGIN_FAILURES_PER_USERNAME_ANYWHERE",
    ),
    # The "username" of an API signature is its access key id (AK), which is not secret.
    "api-auth": Scope(
        "API_AUTH_FAILURES_PER_IP",
        "API_AUTH_FAILURES_PER_ACCESS_KEY",
        "API_AUTH_FAILURES_PER_ACCESS_KEY_ANYWHERE",
    ),
}


@dataclass(frozen=True)
class Verdict:
    throttled: bool
    # Whether this address has signed in as this username before (see remember_address).
    known: bool


def check(request: HttpRequest, scope: str, username: str) -> Verdict:
    """Whether this attempt is refused before any password is looked at. Reads, never writes."""
    network = client_network(request)
    keys = _marker_keys(scope, username, network)
    known_key = _known_key(scope, username, network) if username else ""
    found = cache.get_many([*keys.values(), *([known_key] if known_key else [])])
    known = bool(known_key and found.get(known_key))
    throttled = bool(
        found.get(keys["address"])
        or (username and found.get(keys["username"]))
        or (username and found.get(keys["anywhere"]) and not known)
    )
    return Verdict(throttled=throttled, known=known)


def count_failure(request: HttpRequest, scope: str, username: str) -> bool:
    """Count one failed attempt on every counter; True when one of them is now used up."""
    network = client_network(request)
    scope_rates = SCOPES[scope]
    keys = _marker_keys(scope, username, network)
    counters = [("address", network, _rate(scope_rates.per_address))]
    if username:
        counters += [
            ("username", f"{username[:256]}\n{network}", _rate(scope_rates.per_username)),
            ("anywhere", username[:256], _rate(scope_rates.per_username_anywhere)),
        ]
    exceeded = False
    for kind, value, rate in counters:
        usage = get_usage(
            request,
            group=f"{scope}-{kind}",
            key=lambda group, request, v=value: v,
            rate=str(rate),
            increment=True,
        )
        if usage is not None and usage["count"] >= usage["limit"]:
            exceeded = True
            cache.set(keys[kind], True, timeout=max(1, usage["time_left"]))
    return exceeded


def remember_address(request: HttpRequest, scope: str, username: str) -> None:
    """A successful sign-in: this address stays known for this username (and so passes the
    across-addresses bound) for KNOWN_ADDRESS_DAYS."""
    key = _known_key(scope, username, client_network(request))
    cache.set(key, True, timeout=KNOWN_ADDRESS_DAYS * 86400)


def note_throttled(
    request: HttpRequest, scope: str, record: Callable[[dict[str, Any]], None]
) -> None:
    """An attempt refused while throttled: `record` (which writes the audit event) is called
    for the first refusal from this address in each window only, with how many the previous
    window refused; the others are counted, not written."""
    metrics.throttled(scope)
    window = _rate(SCOPES[scope].per_address).seconds
    index = int(time.time()) // window
    network = _digest(client_network(request))
    key = f"refused:{scope}:{network}:{index}"
    if cache.add(key, 1, timeout=2 * window + 60):
        previous = cache.get(f"refused:{scope}:{network}:{index - 1}", 0)
        record(
            {"throttled": True, "window_seconds": window, "refused_in_previous_window": previous}
        )
        return
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=2 * window + 60)


def _rate(setting: str) -> rates.Rate:
    """A limit's rate, read from its setting (checked at start; tests may change it)."""
    return rates.parse(getattr(settings, setting))


def client_network(request: HttpRequest) -> str:
    """The client as the limits count it: an IPv4 address, or an IPv6 /64 (one subscriber's
    prefix, so rotating addresses inside it gains nothing)."""
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return "unknown"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return str(address)


def _marker_keys(scope: str, username: str, network: str) -> dict[str, str]:
    name = username[:256]
    return {
        "address": f"throttled:{scope}-address:{_digest(network)}",
        "username": f"throttled:{scope}-username:{_digest(name + chr(10) + network)}",
        "anywhere": f"throttled:{scope}-anywhere:{_digest(name)}",
    }


def _known_key(scope: str, username: str, network: str) -> str:
    return f"known:{scope}:{_digest(username[:256] + chr(10) + network)}"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode(errors="replace")).hexdigest()
