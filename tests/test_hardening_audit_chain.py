"""The tamper-evident trail: every event chained to the one before, by the database, whoever
inserts it; verify_audit_trail names the first missing, altered or reordered event, even after
a superuser edited the table directly (issue 14)."""

from __future__ import annotations

import itertools
import threading
import tracemalloc

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from credentials.models import Actor, AuditEvent, LongTermCredential, Registry, TemporaryCredential
from credentials.models import User as UserModel
from credentials.security import audit_chain

pytestmark = [
    pytest.mark.postgresql(reason="the trail's hash chain is a PostgreSQL trigger"),
    pytest.mark.django_db,
]


def verify(*args: str) -> str:
    import io

    out = io.StringIO()
    call_command("verify_audit_trail", *args, stdout=out)
    return out.getvalue()


def superuser_sql(sql: str, params: list | None = None) -> None:
    """As a superuser at a psql prompt would: the append-only trigger switched off first."""
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {audit_chain.TABLE} DISABLE TRIGGER USER")
        cursor.execute(sql, params or [])
        cursor.execute(f"ALTER TABLE {audit_chain.TABLE} ENABLE TRIGGER USER")


@pytest.fixture
def events(owner: UserModel, registry: Registry) -> list[AuditEvent]:
    """Events written by every path: record(), the one-statement insert, bulk_create."""
    LongTermCredential.objects.create_for(
        owner=owner, registry=registry, name="ci", by=Actor(owner)
    )
    TemporaryCredential.objects.issue(registry=registry, by=Actor(owner), kind="image")
    AuditEvent.objects.bulk_create(
        [AuditEvent.build(AuditEvent.Action.SIGN_IN, Actor(owner)) for _ in range(3)]
    )
    AuditEvent.record(AuditEvent.Action.SIGN_IN_FAILED, Actor(None, username="x\u00e9"))
    return list(AuditEvent.objects.order_by("chain_seq"))


def test_every_event_is_chained_to_the_one_before(events: list[AuditEvent]) -> None:
    assert [event.chain_seq for event in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == ""
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash
    assert f"{len(events)} event(s), head {len(events)}:{events[-1].hash}" in verify()


def test_an_altered_event_is_named(events: list[AuditEvent]) -> None:
    target = events[2]
    superuser_sql(
        f"UPDATE {audit_chain.TABLE} SET actor_username = 'someone-else' WHERE id = %s",
        [target.id],
    )
    with pytest.raises(CommandError, match=f"event {target.id} .* was altered"):
        verify()


def test_an_altered_event_whose_hash_was_recomputed_breaks_the_next_link(
    events: list[AuditEvent],
) -> None:
    target, following = events[2], events[3]
    superuser_sql(
        f"UPDATE {audit_chain.TABLE} e SET actor_username = 'someone-else', "
        "hash = encode(sha256(convert_to(e.prev_hash || "
        + audit_chain.canonical("e").replace("e.actor_username", "'someone-else'")
        + ", 'UTF8')), 'hex') WHERE id = %s",
        [target.id],
    )
    with pytest.raises(CommandError, match=f"event {following.id} .* does not follow"):
        verify()


def test_a_missing_event_is_named(events: list[AuditEvent]) -> None:
    superuser_sql(f"DELETE FROM {audit_chain.TABLE} WHERE id = %s", [events[3].id])
    with pytest.raises(CommandError, match=f"1 event\\(s\\) missing before event {events[4].id}"):
        verify()


def test_reordered_events_are_named(events: list[AuditEvent]) -> None:
    first, second = events[1], events[2]
    superuser_sql(
        f"UPDATE {audit_chain.TABLE} SET chain_seq = -chain_seq WHERE id IN (%s, %s)",
        [first.id, second.id],
    )
    superuser_sql(
        f"UPDATE {audit_chain.TABLE} SET chain_seq = CASE id WHEN %s THEN %s ELSE %s END "
        "WHERE id IN (%s, %s)",
        [first.id, second.chain_seq, first.chain_seq, first.id, second.id],
    )
    with pytest.raises(CommandError, match=f"event {second.id} .* does not follow"):
        verify()


def test_an_event_inserted_around_the_chain_is_named(events: list[AuditEvent]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"ALTER TABLE {audit_chain.TABLE} DISABLE TRIGGER credentials_auditevent_chain"
        )
    forged = AuditEvent.record(AuditEvent.Action.SIGN_IN, Actor(None, username="forged"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"ALTER TABLE {audit_chain.TABLE} ENABLE TRIGGER credentials_auditevent_chain"
        )
    with pytest.raises(CommandError, match=f"event {forged.id} is outside the chain"):
        verify()


def test_a_trail_cut_short_is_caught_by_a_recorded_head(events: list[AuditEvent]) -> None:
    head = verify().rsplit("head ", 1)[1].strip()
    assert verify("--expect-head", head)
    superuser_sql(f"DELETE FROM {audit_chain.TABLE} WHERE id = %s", [events[-1].id])
    verify()  # on its own, a shorter chain is still a chain...
    with pytest.raises(CommandError, match="cut short"):
        verify("--expect-head", head)  # ...but not the one whose head was recorded


@pytest.mark.django_db(transaction=True)
def test_two_events_inserted_at_once_are_chained_one_after_the_other(db: None) -> None:
    settings = connection.settings_dict
    params = {
        "host": settings["HOST"],
        "port": settings["PORT"],
        "dbname": settings["NAME"],
        "user": settings["USER"] or "postgres",
    }
    insert = (
        f"INSERT INTO {audit_chain.TABLE} (created_at, action, channel, actor_username, "
        "user_agent, registry_address, credential_name, credential_username, detail, "
        "prev_hash, hash) VALUES (now(), 'console.sign_in', 'console', %s, '', '', '', '', "
        "'{}', '', '') RETURNING id"
    )
    with psycopg.connect(**params) as first, psycopg.connect(**params) as second:
        first.execute(insert, ["first"])  # its transaction stays open, holding the tail
        done = threading.Event()

        def insert_second() -> None:
            second.execute(insert, ["second"])
            second.commit()
            done.set()

        thread = threading.Thread(target=insert_second)
        thread.start()
        _wait_for_a_waiting_advisory_lock()  # the second waits for the first, as it must
        assert not done.is_set()
        first.commit()
        thread.join(timeout=30)
        assert done.is_set()
    chain = list(
        AuditEvent.objects.order_by("chain_seq").values_list("actor_username", "chain_seq")
    )
    assert chain == [("first", 1), ("second", 2)]
    assert "2 event(s)" in verify()


def _wait_for_a_waiting_advisory_lock() -> None:
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            )
            if cursor.fetchone()[0]:
                return
    pytest.fail("the second insert never waited for the chain's lock")


def _peak_verifying(batch_size: int) -> int:
    tracemalloc.start()
    try:
        report = audit_chain.verify(batch_size=batch_size)
        assert report.problem == ""
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _generate(count: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {audit_chain.TABLE} (created_at, action, channel, actor_username, "
            "user_agent, registry_address, credential_name, credential_username, detail, "
            "prev_hash, hash) SELECT now(), 'console.sign_in_failed', 'console', "
            "'user' || n, 'curl/8', '', '', '', jsonb_build_object('n', n), '', '' "
            "FROM generate_series(1, %s) n",
            [count],
        )


def test_verifying_runs_in_constant_memory(db: None) -> None:
    _generate(2_000)
    small = _peak_verifying(batch_size=1_000)
    _generate(18_000)
    large = _peak_verifying(batch_size=1_000)
    # Ten times the events, not ten times the memory: batches, never the whole trail.
    assert large < 1.5 * small, (small, large)
