"""Login attempts, in both flows: the throttle's verdict, a success remembered for its
address, a failure counted and audited (one registry_login_failed event), and the least time
any refusal takes."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import replace
from typing import Any

from django.http import HttpRequest

from credentials.models import (
    Actor,
    AuditEvent,
    Registry,
    looks_like_registry_username,
    typed_username,
)
from credentials.security import throttling

logger = logging.getLogger(__name__)

# Every refusal takes as long as most checked ones do: the 95th percentile of the last
# RECENT_CHECKED refusals in this process that looked the credential up and audited it, at
# least REFUSAL_MIN_SECONDS and at most REFUSAL_MAX_SECONDS (OpenSSH pads failed
# authentication likewise). One refused unchecked (its limit reached) costs a fraction of a
# checked one: unpadded, the difference told an attacker which usernames had been refused
# before (the issue measured a known username 2–3 ms faster than new unknown ones). Following
# the checked ones keeps that hidden when a busy machine stretches them past any fixed floor;
# a percentile, not the slowest, so that one stall does not slow every refusal after it.
REFUSAL_MIN_SECONDS = 0.010
REFUSAL_MAX_SECONDS = 0.25
RECENT_CHECKED = 64
_recent_checked: deque[float] = deque(maxlen=RECENT_CHECKED)
_recent_lock = threading.Lock()


def answer_no_sooner(request: HttpRequest, started: float) -> None:
    """Wait until the refusal of `request`, begun at `started` (a time.perf_counter()), has
    taken as long as most checked ones (refusal_wait)."""
    checked = getattr(request, "swr_refusal_checked", False)
    wait = refusal_wait(time.perf_counter() - started, checked=checked)
    if wait > 0:
        time.sleep(wait)


def refusal_wait(took: float, *, checked: bool) -> float:
    """How much longer a refusal whose work `took` seconds waits: up to the 95th percentile
    of the recent checked ones (this one included if it was `checked`), at least
    REFUSAL_MIN_SECONDS, at most REFUSAL_MAX_SECONDS."""
    with _recent_lock:
        if checked:
            _recent_checked.append(took)
        recent = sorted(_recent_checked)
    usual = recent[int(len(recent) * 0.95)] if recent else 0.0
    return max(0.0, min(REFUSAL_MAX_SECONDS, max(REFUSAL_MIN_SECONDS, usual)) - took)


def throttle_verdict(request: HttpRequest, username: str, service: str) -> throttling.Verdict:
    """The throttle's verdict for this login (both flows); a throttled one is noted (refuse it)."""
    verdict = throttling.check(request, "registry-login", username)
    if verdict.throttled:
        request.swr_token_throttled = True  # type: ignore[attr-defined]
        logger.warning("registry login refused while throttled")
        throttling.note_throttled(
            request,
            "registry-login",
            lambda detail: _record_failure(request, username, service, "throttled", **detail),
        )
    return verdict


def remember_success(request: HttpRequest, verdict: throttling.Verdict, username: str) -> None:
    # Once per address: later successes from it write nothing. A refresh grant names no
    # username, so it has no address to remember (nor any limit per username to pass).
    if username and not verdict.known:
        throttling.remember_address(request, "registry-login", username)


def record_failure(request: HttpRequest, username: str, service: str, reason: str) -> None:
    """Count one failed login (both flows) and audit it: a checked refusal, whose time sets
    every refusal's (answer_no_sooner)."""
    request.swr_refusal_checked = True  # type: ignore[attr-defined]
    if throttling.count_failure(request, "registry-login", username):
        logger.warning("registry login throttled for a username or IP")
    _record_failure(request, username, service, reason)


def _record_failure(
    request: HttpRequest, username: str, service: str, reason: str, **detail: Any
) -> None:
    AuditEvent.record(
        AuditEvent.Action.REGISTRY_LOGIN_FAILED,
        replace(Actor.from_request(request), user=None),  # a registry client signs no one in
        registry=Registry.objects.filter(address=service).first() if service else None,
        # Kept only in a registry username's shape: no lookup, so that a known username and
        # an unknown one cost the same.
        username=typed_username(username, is_one=looks_like_registry_username(username)),
        reason=reason,
        service=service[:255],
        **detail,
    )
