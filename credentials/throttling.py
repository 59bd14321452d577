"""Failed-attempt limits per client IP and per username (django-ratelimit counters).

Used by console sign-in (pages, admin, built-in IAM) and by the registry token service.
Only failures are counted; a successful attempt costs nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage

# scope -> (setting with the per-IP rate, setting with the per-username rate)
SCOPES = {
    "sign-in": ("SIGN_IN_FAILURES_PER_IP", "SIGN_IN_FAILURES_PER_USERNAME"),
    "registry-login": ("REGISTRY_LOGIN_FAILURES_PER_IP", "REGISTRY_LOGIN_FAILURES_PER_USERNAME"),
}


def failures_exceeded(
    request: HttpRequest, scope: str, username: str, *, count_one_more: bool = False
) -> bool:
    """Whether this IP or this username has used up its failed attempts in `scope`.

    With count_one_more, one more failure is counted first.
    """
    ip_setting, username_setting = SCOPES[scope]
    limits = [(f"{scope}-ip", "ip", getattr(settings, ip_setting))]
    if username:
        name = username[:256]
        limits.append(
            (f"{scope}-username", lambda group, request: name, getattr(settings, username_setting))
        )
    exceeded = False
    for group, key, rate in limits:
        usage = get_usage(request, group=group, key=key, rate=rate, increment=count_one_more)
        exceeded = exceeded or (usage is not None and usage["count"] >= usage["limit"])
    return exceeded
