"""Sign-ins to the console (pages, admin and the built-in IAM API) go to the audit trail;
a sign-out ends every session of the account; what deleting a user or a group removes with
it (credentials, permission grants) is audited; every migrate switches the audit stream."""

from __future__ import annotations

import contextvars
from dataclasses import replace
from typing import Any

from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import F, QuerySet
from django.db.models.signals import post_migrate, pre_delete, pre_save
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from credentials import metrics
from credentials.models import (
    Actor,
    AuditEvent,
    AuditStream,
    Permission,
    User,
    switch_audit_stream,
    typed_username,
)
from credentials.security import throttling


@receiver(user_logged_in)
def record_sign_in(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    if request is None:
        return
    metrics.login("succeeded")
    actor = Actor.from_request(request)
    AuditEvent.record(
        AuditEvent.Action.SIGN_IN,
        replace(actor, user=user),
        path=request.path,
        # How, when not by password (credentials/identity/views.py: the provider, the subject).
        **getattr(request, "swr_sign_in_detail", {}),
    )


@receiver(user_login_failed)
def record_sign_in_failure(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # `credentials` has the password already masked by Django; only the username is kept, and
    # only when it is an account's (a password typed into the username field is not).
    typed = str(credentials.get("username", ""))[:150]
    known = "\x00" not in typed and User.objects.filter(username=typed).exists()
    username = typed_username(typed, is_one=known)
    if request is None:
        actor = Actor(user=None, username=username)
    else:
        actor = Actor.from_request(request)
        actor = replace(actor, user=None, username=username)
    path = request.path if request is not None else ""
    throttled = request is not None and getattr(request, "swr_throttled", False)
    metrics.login("throttled" if throttled else "failed")
    if throttled:
        # Refused unchecked: at most one event per window from this address, with a count.
        throttling.note_throttled(
            request,
            "sign-in",
            lambda detail: AuditEvent.record(
                AuditEvent.Action.SIGN_IN_FAILED, actor, path=path, **detail
            ),
        )
        return
    AuditEvent.record(AuditEvent.Action.SIGN_IN_FAILED, actor, path=path)
    if request is not None:
        throttling.count_failure(request, "sign-in", typed)


@receiver(user_logged_out)
def end_sessions_on_sign_out(
    sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any
) -> None:
    # A session is a signed cookie: a copy kept from before the sign-out must stop working.
    if user is not None:
        user.end_sessions()


@receiver(pre_save, sender=User)
def end_sessions_on_deactivation(
    sender: Any, instance: User, update_fields: frozenset[str] | None = None, **kwargs: Any
) -> None:
    """A user deactivated loses every session and IAM token for good: reactivating them later
    does not bring back what was issued before (both are bound to the session generation)."""
    if instance.pk is None or instance.is_active:
        return
    if update_fields is not None and "is_active" not in update_fields:
        return
    if not User.objects.filter(pk=instance.pk, is_active=True).exists():
        return  # already inactive
    if update_fields is None:
        instance.session_generation += 1  # written by this save
    else:
        User.objects.filter(pk=instance.pk).update(session_generation=F("session_generation") + 1)


# Who is deleting users, when the admin does it (credentials/admin/users.py sets it).
deleting_actor: contextvars.ContextVar[Actor | None] = contextvars.ContextVar(
    "deleting_actor", default=None
)


@receiver(pre_delete, sender=User)
def audit_credentials_deleted_with_their_user(sender: Any, instance: User, **kwargs: Any) -> None:
    """Deleting a user deletes their credentials (a cascade): each deletion is audited, in the
    same transaction, as if it had been done one by one."""
    actor = deleting_actor.get() or Actor(user=None, username="")
    reason = f"its owner {instance.get_username()} was deleted"
    events = [
        AuditEvent.build(AuditEvent.Action.LONG_TERM_DELETED, actor, credential=c, reason=reason)
        for c in instance.long_term_credentials.select_related("registry")
    ]
    events += [
        AuditEvent.build(AuditEvent.Action.TEMPORARY_DELETED, actor, credential=c, reason=reason)
        for c in instance.temporary_credentials.filter(expires_at__gt=timezone.now())
    ]
    events += _grants_removed(instance.organization_permissions.all(), actor, "user", instance)
    if events:
        AuditEvent.objects.bulk_create(events)


@receiver(pre_delete, sender=Group)
def audit_grants_removed_with_their_group(sender: Any, instance: Group, **kwargs: Any) -> None:
    """Deleting a group removes its permission grants (a cascade): each one audited."""
    actor = deleting_actor.get() or Actor(user=None, username="")
    events = _grants_removed(instance.organization_permissions.all(), actor, "group", instance)
    if events:
        AuditEvent.objects.bulk_create(events)


def _grants_removed(
    grants: QuerySet[Permission], actor: Actor, kind: str, grantee: User | Group
) -> list[AuditEvent]:
    reason = f"the {kind} {grantee} was deleted"
    return [
        AuditEvent.build(
            AuditEvent.Action.PERMISSION_REVOKED,
            actor,
            registry=grant.organization.registry,
            reason=reason,
            **grant.audited(grant.level, 0),
        )
        for grant in grants.select_related("organization__registry", "user", "group")
    ]


@receiver(post_migrate)
def switch_the_audit_stream(sender: Any, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """After every migrate, the audit stream is on while AUDIT_SYSLOG_URL is set, off otherwise
    (credentials/models/audit_stream.py): as the role that migrates, which owns the switch."""
    if getattr(sender, "name", "") != "credentials":
        return
    if AuditStream._meta.db_table in connections[using].introspection.table_names():
        switch_audit_stream(using=using)  # not when migrated back to before it existed
