"""Login attempts, in both flows: the throttle's verdict, a success remembered for its
address, a failure counted and audited (one registry_login_failed event)."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from django.http import HttpRequest

from credentials.models import Actor, AuditEvent, Registry
from credentials.security import throttling

logger = logging.getLogger(__name__)


def throttle_verdict(request: HttpRequest, username: str, service: str) -> throttling.Verdict:
    """The throttle's verdict for this login (both flows); a throttled one is noted (refuse it)."""
    verdict = throttling.check(request, "registry-login", username)
    if verdict.throttled:
        logger.warning("registry login refused while throttled")
        throttling.note_throttled(
            request,
            "registry-login",
            lambda detail: _record_failure(request, username, service, "throttled", **detail),
        )
    return verdict


def remember_success(request: HttpRequest, verdict: throttling.Verdict, username: str) -> None:
    if not verdict.known:  # once per address: later successes from it write nothing
        throttling.remember_address(request, "registry-login", username)


def record_failure(request: HttpRequest, username: str, service: str, reason: str) -> None:
    """Count one failed login (both flows) and audit it."""
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
        username=username[:150],
        reason=reason,
        service=service[:255],
        **detail,
    )
