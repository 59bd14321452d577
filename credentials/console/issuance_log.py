"""The Temporary tab's log: the temporary credentials the user was issued in the last 24 hours.

Read from the audit trail (every issue writes a `temporary.issued` event, in built-in and
remote mode alike), through the `audit_by_actor` index: one user's events of one day, newest
first, at most LIMIT of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from credentials.models import AuditEvent, Registry, User
from credentials.upstream import TemporaryLogin

WINDOW = timedelta(hours=24)
LIMIT = 50


@dataclass(frozen=True)
class Issued:
    username: str
    kind: str  # "image" or "chart"
    issued_at: datetime
    expires_at: datetime | None

    @classmethod
    def of(cls, login: TemporaryLogin, kind: str) -> Issued:
        """The entry of a login just issued, as the log will read it from its audit event."""
        return cls(login.username, kind, timezone.now(), login.expires_at)


def issued_recently(user: User, registry: Registry, *, now: datetime | None = None) -> list[Issued]:
    since = (now or timezone.now()) - WINDOW
    events = (
        AuditEvent.objects.filter(
            actor_username=user.get_username(),
            created_at__gte=since,
            actor_id=user.pk,
            action=AuditEvent.Action.TEMPORARY_ISSUED,
            registry=registry,
        )
        .order_by("-created_at", "-id")
        .only("credential_username", "detail", "created_at")[:LIMIT]
    )
    return [
        Issued(
            username=event.credential_username or str(event.detail.get("username", "")),
            kind="chart" if event.detail.get("kind") == "chart" else "image",
            issued_at=event.created_at,
            expires_at=parse_datetime(str(event.detail.get("expires_at", ""))),
        )
        for event in events
    ]
