"""The scheduled side of the credential lifecycle, run by `manage.py send_credential_reminders`:
reminders of expiry e-mailed to owners, and (DISABLE_UNUSED_AFTER_DAYS) unused credentials
disabled.

Safe to run every few minutes, and from several hosts at once: each reminder is a row under a
unique (credential, kind) constraint, inserted in the same transaction that sends its e-mail,
so a second sender waits for the first and then finds it done; a refused e-mail's row is
removed so a later run tries again. Work goes in batches of a constant number of queries each
(tests/test_credential_reminders.py counts them), reading ranges of the partial expiry index.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from credentials.lifecycle import notifications
from credentials.models import Actor, AuditEvent, CredentialReminder, LongTermCredential, User
from credentials.models.sql import fetch_all

logger = logging.getLogger(__name__)

# How long after expiry the "has expired" e-mail may still go out (a sender that was down).
EXPIRED_NOTICE_WINDOW = timedelta(days=7)
SYSTEM = Actor(user=None, username="system", channel=AuditEvent.Channel.SYSTEM)


@dataclass
class Report:
    reminders_sent: int = 0
    reminders_failed: int = 0
    disabled: int = 0


@dataclass(frozen=True)
class Window:
    """Credentials whose expiry lies in (after, until] are due the reminder `kind`."""

    kind: str
    after: datetime
    until: datetime
    days: int | None  # days before expiry; None for "expired"


def windows(now: datetime, reminder_days: list[int]) -> list[Window]:
    """One window per reminder: the 7-day reminder is due while 1 < days left <= 7, and so on.

    A sender that was down past a window skips its reminder: a late "7 days" notice with a day
    left would mislead, and the next one is on its way.
    """
    days = sorted(set(reminder_days), reverse=True)
    found = [
        Window(
            CredentialReminder.kind_for_days(day),
            now + timedelta(days=days[index + 1] if index + 1 < len(days) else 0),
            now + timedelta(days=day),
            day,
        )
        for index, day in enumerate(days)
    ]
    found.append(Window(CredentialReminder.EXPIRED, now - EXPIRED_NOTICE_WINDOW, now, None))
    return found


def run(*, now: datetime | None = None, batch_size: int = 500) -> Report:
    """Everything that is due at `now` (default: the clock)."""
    now = now or timezone.now()
    report = Report()
    for window in windows(now, settings.EXPIRY_REMINDER_DAYS):
        send_reminders(window, batch_size, report)
    if settings.DISABLE_UNUSED_AFTER_DAYS:
        disable_unused(settings.DISABLE_UNUSED_AFTER_DAYS, now, batch_size, report)
    return report


def _due(window: Window, after_pk: int, batch_size: int) -> list[LongTermCredential]:
    sent = CredentialReminder.objects.filter(credential=OuterRef("pk"), kind=window.kind)
    due = (
        LongTermCredential.objects.filter(
            expires_at__gt=window.after,
            expires_at__lte=window.until,
            is_enabled=True,
            owner__is_active=True,
            pk__gt=after_pk,
        )
        .exclude(owner__email="")
        .filter(~Exists(sent))
    )
    if window.days is not None:
        # Created inside the window: its owner chose that expiry moments ago; no reminder.
        due = due.filter(created_at__lt=F("expires_at") - timedelta(days=window.days))
    return list(due.select_related("owner", "registry").order_by("pk")[:batch_size])


def _record(credentials: list[LongTermCredential], kind: str, now: datetime) -> set[int]:
    """Insert one reminder row per credential; the ids whose row this call inserted (a row
    already there, or inserted by a concurrent sender, is skipped)."""
    table = connection.ops.quote_name(CredentialReminder._meta.db_table)
    values = ", ".join(["(%s, %s, %s, %s)"] * len(credentials))
    params: list[object] = []
    for credential in credentials:
        params += [credential.pk, kind, credential.expires_at, now]
    sql = (
        f"INSERT INTO {table} (credential_id, kind, expires_at, sent_at) "  # noqa: S608
        f"VALUES {values} ON CONFLICT (credential_id, kind) DO NOTHING RETURNING credential_id"
    )
    return {row[0] for row in fetch_all(sql, params)}


def _days_left(window: Window, credential: LongTermCredential, now: datetime) -> int | None:
    """Whole days left, to the nearest (what the mail says), or None once expired. The
    window's own number would overstate it when the sender ran late in the window."""
    if window.days is None:
        return None
    assert credential.expires_at is not None
    return max(1, math.floor((credential.expires_at - now) / timedelta(days=1) + 0.5))


def send_reminders(window: Window, batch_size: int, report: Report) -> None:
    after_pk = 0
    while True:
        with transaction.atomic():
            due = _due(window, after_pk, batch_size)
            if not due:
                return
            after_pk = due[-1].pk
            now = timezone.now()
            recorded = _record(due, window.kind, now)
            messages = [
                (
                    credential.pk,
                    notifications.expiry_reminder(credential, _days_left(window, credential, now)),
                )
                for credential in due
                if credential.pk in recorded
            ]
            failed = notifications.send_each(messages)
            if failed:
                # Not sent, so not recorded: a later run tries again.
                CredentialReminder.objects.filter(
                    credential_id__in=failed, kind=window.kind
                ).delete()
        report.reminders_sent += len(messages) - len(failed)
        report.reminders_failed += len(failed)
        logger.info("%s credential reminder(s) '%s' sent", len(messages) - len(failed), window.kind)
        if len(due) < batch_size:
            return


def disable_unused(days: int, now: datetime, batch_size: int, report: Report) -> None:
    """Disable every enabled, unexpired credential not used for `days` days, audited as done
    by the system, and e-mail each owner.

    Unused means: last used before the cutoff, or never used and created before it. One that
    was enabled again since the cutoff is spared: its owner has just said they want it.
    """
    cutoff = now - timedelta(days=days)
    reason = f"not used for {days} days (DISABLE_UNUSED_AFTER_DAYS)"
    after_pk = 0
    while True:
        with transaction.atomic():
            batch = list(
                LongTermCredential.objects.unexpired(now)
                .unused_since(cutoff)
                .filter(is_enabled=True, pk__gt=after_pk)
                .filter(Q(status_changed_at__isnull=True) | Q(status_changed_at__lt=cutoff))
                .select_related("owner", "registry")
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("pk")[:batch_size]
            )
            if not batch:
                return
            after_pk = batch[-1].pk
            LongTermCredential.objects.filter(pk__in=[c.pk for c in batch]).update(
                is_enabled=False, status_changed_at=now, status_changed_by=None
            )
            AuditEvent.objects.bulk_create(
                AuditEvent.build(
                    AuditEvent.Action.LONG_TERM_DISABLED,
                    SYSTEM,
                    credential=credential,
                    reason=reason,
                    policy="DISABLE_UNUSED_AFTER_DAYS",
                )
                for credential in batch
            )
            User.objects.credentials_changed(*{credential.owner_id for credential in batch})
            # Raises, undoing the batch, when no mail server answers: disabled and told, or
            # neither (the next run tries again).
            notifications.send_each(
                [
                    (credential.pk, notifications.disabled_unused(credential, days))
                    for credential in batch
                    if credential.owner.email
                ]
            )
        report.disabled += len(batch)
        logger.info("%s unused long-term credential(s) disabled", len(batch))
        if len(batch) < batch_size:
            return
