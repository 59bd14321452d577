"""Failed-attempt limits per client address and per username (django-ratelimit counters).

Used by console sign-in (pages, admin, built-in IAM) and by the registry token service.
Only failures are counted. The failure that reaches a limit also leaves a marker in the cache
until the counter's window ends, so the check every attempt makes first — the registry token
service makes it on every request — reads two keys and writes nothing (django-ratelimit's own
check would add-then-get each counter).
"""

from __future__ import annotations

import hashlib
import ipaddress

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django_ratelimit.core import get_usage

# scope -> (setting with the per-address rate, setting with the per-username rate)
SCOPES = {
    "sign-in": ("SIGN_IN_FAILURES_PER_IP", "SIGN_IN_FAILURES_PER_USERNAME"),
    "registry-login": ("REGISTRY_LOGIN_FAILURES_PER_IP", "REGISTRY_LOGIN_FAILURES_PER_USERNAME"),
    "api-auth": ("API_AUTH_FAILURES_PER_IP", "API_AUTH_FAILURES_PER_ACCESS_KEY"),
}


def failures_exceeded(
    request: HttpRequest, scope: str, username: str, *, count_one_more: bool = False
) -> bool:
    """Whether this address or this username has used up its failed attempts in `scope`.

    With count_one_more, one more failure is counted first.
    """
    limits = _limits(request, scope, username)
    if not count_one_more:
        return bool(cache.get_many([_marker(group, value) for group, value, _ in limits]))
    exceeded = False
    for group, value, rate in limits:
        usage = get_usage(
            request, group=group, key=lambda group, request, v=value: v, rate=rate, increment=True
        )
        if usage is not None and usage["count"] >= usage["limit"]:
            exceeded = True
            cache.set(_marker(group, value), True, timeout=max(1, usage["time_left"]))
    return exceeded


def _limits(request: HttpRequest, scope: str, username: str) -> list[tuple[str, str, str]]:
    address_setting, username_setting = SCOPES[scope]
    limits = [(f"{scope}-ip", _client_network(request), getattr(settings, address_setting))]
    if username:
        limits.append((f"{scope}-username", username[:256], getattr(settings, username_setting)))
    return limits


def _client_network(request: HttpRequest) -> str:
    """The client as the limits count it: an IPv4 address, or an IPv6 /64 (one subscriber's
    prefix, so rotating addresses inside it gains nothing)."""
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return "unknown"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return str(address)


def _marker(group: str, value: str) -> str:
    return f"throttled:{group}:{hashlib.sha256(value.encode()).hexdigest()}"
