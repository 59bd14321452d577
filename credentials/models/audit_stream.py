"""The audit trail streamed out: an outbox of the events a syslog receiver has not yet accepted.

The database writes the outbox itself: a trigger on the trail (migration 0009) adds one row for
every event inserted while the stream is on, in the event's own transaction, whoever inserts it
(the ORM, insert_together, bulk_create, a migration's SQL), so an event and its row commit or
roll back together and a request only ever inserts. `manage.py stream_audit_trail` sends the
rows in order and deletes each once the receiver has accepted it (credentials/streaming/).

A row's `seq` is the event's position: its chain position on PostgreSQL (consecutive, and
committed in that order: the chain's trigger holds the tail's lock until commit), its id on
SQLite, which has no chain (one writer at a time, and ids that are never skipped: a rolled-back
insert gives its id back). The stream is on while AUDIT_SYSLOG_URL is set where `migrate` last
ran (`switch_audit_stream`, after every migrate): nothing is queued otherwise.
"""

from __future__ import annotations

import fcntl
import os
from typing import IO

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.utils.translation import gettext_lazy as _

from credentials.models.audit import AuditEvent

# pg_advisory_lock key of the one sender (audit_chain's is 7_201_912, prepare_database's 7_201_911).
SENDER_LOCK = 7_201_913
# Whether this session holds it: a connection the driver replaced after a failure does not.
_HOLDS_SENDER_LOCK = """
SELECT CASE WHEN EXISTS (
    SELECT 1 FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND granted
        AND pid = pg_catalog.pg_backend_pid() AND classid = 0 AND objid = %s AND objsubid = 1
) THEN true ELSE pg_catalog.pg_try_advisory_lock(%s) END
"""

# On SQLite, changing a table rebuilds it and drops its triggers: switch_audit_stream, which
# runs after every migrate, puts this one back.
SQLITE_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS credentials_auditevent_outbox
AFTER INSERT ON credentials_auditevent
WHEN EXISTS (SELECT 1 FROM credentials_auditstream WHERE id = 1 AND enabled)
BEGIN
    INSERT INTO credentials_auditoutbox (seq, event_id) VALUES (NEW.id, NEW.id);
END
"""


class AuditStream(models.Model):
    """The stream's one switch (id 1): whether new events are queued for the receiver."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    enabled = models.BooleanField(_("enabled"), default=False)

    class Meta:
        verbose_name = _("audit stream")
        verbose_name_plural = _("audit stream")
        default_permissions = ()  # bookkeeping, in no admin: no one is granted it

    def __str__(self) -> str:
        return f"audit stream ({'on' if self.enabled else 'off'})"


class AuditOutbox(models.Model):
    """An event waiting for the syslog receiver; deleted once the receiver accepted it."""

    seq = models.BigIntegerField(_("position"), primary_key=True)
    event = models.ForeignKey(
        AuditEvent,
        verbose_name=_("audit event"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )

    class Meta:
        verbose_name = _("audit event to stream")
        verbose_name_plural = _("audit events to stream")
        ordering = ["seq"]
        default_permissions = ()

    def __str__(self) -> str:
        return f"audit event {self.event_id} (position {self.seq})"


def audit_stream_backlog() -> int:
    """How many audit events wait for the syslog receiver (0 when AUDIT_SYSLOG_URL is unset)."""
    if not settings.AUDIT_SYSLOG_URL:
        return 0
    return AuditOutbox.objects.count()


def switch_audit_stream(*, using: str = DEFAULT_DB_ALIAS) -> bool:
    """Turn the stream on when AUDIT_SYSLOG_URL is set, off otherwise (run after migrate, as
    the role that migrates: the one that owns the switch). Whether it is on. Turned off, rows
    still waiting stay, sent once it is on again: nothing queued is dropped."""
    enabled = bool(settings.AUDIT_SYSLOG_URL)
    connection = connections[using]
    with transaction.atomic(using=using):
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute(SQLITE_TRIGGER)
        current = AuditStream.objects.using(using).filter(id=1).values_list("enabled", flat=True)
        if list(current) != [enabled]:
            AuditStream.objects.using(using).update_or_create(id=1, defaults={"enabled": enabled})
    return enabled


def audit_stream_enabled() -> bool:
    """Whether the database queues new events for the receiver."""
    return AuditStream.objects.filter(id=1, enabled=True).exists()


def audit_events_to_stream(limit: int) -> list[tuple[int, AuditEvent]]:
    """The first `limit` events waiting, in order, each with its position."""
    rows = AuditOutbox.objects.select_related("event").order_by("seq")[:limit]
    return [(row.seq, row.event) for row in rows]


def audit_events_streamed(seqs: list[int]) -> None:
    """Forget the events at these positions: the receiver accepted them."""
    AuditOutbox.objects.filter(seq__in=seqs).delete()


class SenderLock:
    """One sender at a time, for as long as it runs: two would each send what the other has
    not yet deleted (twice), and the receiver could take their connections' messages in
    either order. PostgreSQL: a session advisory lock, checked again before every batch (a
    connection lost and made again has lost it). SQLite: an exclusive lock on a file beside
    the database (its writer lock, held that long, would stop every request's writes)."""

    def __init__(self) -> None:
        self._file: IO[bytes] | None = None
        self._session: object = None  # PostgreSQL: the connection that holds the lock

    def hold(self) -> bool:
        """Whether this process is the sender now (taking the lock if it is free)."""
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(_HOLDS_SENDER_LOCK, [SENDER_LOCK, SENDER_LOCK])
                self._session = connection.connection if cursor.fetchone()[0] else None
            return self._session is not None
        if self._file is None:
            name = str(connection.settings_dict["NAME"])
            path = f"{name}.stream-lock" if name and ":memory:" not in name else os.devnull
            file = open(path, "ab")  # noqa: SIM115 - held open for as long as the lock
            try:
                fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                file.close()
                return False
            self._file = file
        return True

    def release(self) -> None:
        if connection.vendor == "postgresql":
            # A connection closed or replaced since took its session's lock with it.
            if self._session is not None and connection.connection is self._session:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_catalog.pg_advisory_unlock(%s)", [SENDER_LOCK])
            self._session = None
        elif self._file is not None:
            self._file.close()
            self._file = None
