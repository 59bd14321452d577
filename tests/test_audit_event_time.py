"""An audit event is dated by the database's clock, never by the process that writes it (issue
23, item 4): on PostgreSQL the chain's trigger sets the time whatever the INSERT says, on SQLite
the column's default does; either way the saved event reads back the time that was stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from credentials.models import Actor, AuditEvent, Registry, TemporaryCredential, User

pytestmark = pytest.mark.django_db

# Where the process's clock is moved: far from any time the database could give.
LONG_AGO = datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)


def test_an_event_is_dated_by_the_database_not_by_the_process_clock(
    owner: User, time_machine
) -> None:
    started = timezone.now()
    time_machine.move_to(LONG_AGO, tick=False)
    event = AuditEvent.record(AuditEvent.Action.SIGN_IN, Actor(owner))
    stored = AuditEvent.objects.get(pk=event.pk).created_at
    assert stored >= started - timedelta(seconds=1)  # SQLite keeps milliseconds
    assert event.created_at == stored


def test_events_written_together_or_in_bulk_are_dated_by_the_database(
    owner: User, registry: Registry, time_machine
) -> None:
    started = timezone.now()
    time_machine.move_to(LONG_AGO, tick=False)
    TemporaryCredential.objects.issue(registry=registry, by=Actor(owner), kind="image")
    bulk = AuditEvent.objects.bulk_create(
        [AuditEvent.build(AuditEvent.Action.SIGN_IN, Actor(owner)) for _ in range(2)]
    )
    stored = dict(AuditEvent.objects.values_list("pk", "created_at"))
    assert len(stored) == 3
    assert all(when >= started - timedelta(seconds=1) for when in stored.values())
    assert [event.created_at for event in bulk] == [stored[event.pk] for event in bulk]
