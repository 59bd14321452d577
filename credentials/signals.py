"""Sign-ins to the console (pages, admin and the built-in IAM API) go to the audit trail;
a sign-out ends every session of the account."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from credentials.models import Actor, AuditEvent, User
from credentials.throttling import failures_exceeded


@receiver(user_logged_in)
def record_sign_in(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    if request is None:
        return
    actor = Actor.from_request(request)
    AuditEvent.record(
        AuditEvent.Action.SIGN_IN,
        Actor(user, actor.ip_address, actor.user_agent),
        path=request.path,
    )


@receiver(user_login_failed)
def record_sign_in_failure(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # `credentials` has the password already masked by Django; only the username is kept.
    username = str(credentials.get("username", ""))[:150]
    if request is None:
        actor = Actor(user=None, username=username)
    else:
        actor = Actor.from_request(request)
        actor = Actor(None, actor.ip_address, actor.user_agent, username)
    AuditEvent.record(
        AuditEvent.Action.SIGN_IN_FAILED, actor, path=request.path if request is not None else ""
    )
    if request is not None:
        failures_exceeded(request, "sign-in", username, count_one_more=True)


@receiver(user_logged_out)
def end_sessions_on_sign_out(
    sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any
) -> None:
    # A session is a signed cookie: a copy kept from before the sign-out must stop working.
    if user is not None:
        user.end_sessions()
