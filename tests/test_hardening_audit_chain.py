"""The tamper-evident trail: every event chained to the one before, by the database, whoever
inserts it; verify_audit_trail names the first missing, altered or reordered event, even after
a superuser edited the table directly (issue 14). The database dates each event, a temporary
table cannot stand in for the trail, no event sits outside the chain's positions, and the
verifier counts the table and checks that time never runs backwards (issue 23, item 4)."""

from __future__ import annotations

import itertools
import threading
import tracemalloc
from datetime import timedelta

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

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
        # Out of each other's way first (positions stay 1 or more: the table's CHECK).
        f"UPDATE {audit_chain.TABLE} SET chain_seq = chain_seq + 1000000 WHERE id IN (%s, %s)",
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


# An event as a caller with INSERT on the table writes it, naming every column it may.
PLANT = (
    "INSERT INTO public.credentials_auditevent (created_at, action, channel, actor_username, "
    "user_agent, registry_address, credential_name, credential_username, detail, chain_seq, "
    "prev_hash, hash) VALUES (%s, 'console.sign_in', 'console', %s, '', '', '', '', '{}', %s, "
    "'', '') RETURNING id, chain_seq, created_at"
)


def plant(when: str, username: str, chain_seq: int | None = None) -> tuple[int, int, object]:
    with connection.cursor() as cursor:
        cursor.execute(PLANT, [when, username, chain_seq])
        return cursor.fetchone()


def test_the_database_dates_an_event_whatever_time_its_insert_names(
    events: list[AuditEvent],
) -> None:
    _, seq, created_at = plant("2001-02-03T04:05:06Z", "backdated", chain_seq=-7)
    assert seq == len(events) + 1  # the trigger's position, not the caller's
    assert created_at >= events[-1].created_at
    assert abs(created_at - timezone.now()) < timedelta(minutes=1)
    assert f"{len(events) + 1} event(s)" in verify()


def test_a_temporary_table_named_like_the_trail_does_not_stand_in_for_it(
    events: list[AuditEvent],
) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {audit_chain.TABLE} "
            f"(LIKE public.{audit_chain.TABLE} INCLUDING DEFAULTS)"
        )
        try:
            # The shadow's "last event" would put the next one at position 0, outside the walk.
            cursor.execute(
                f"INSERT INTO pg_temp.{audit_chain.TABLE} (id, created_at, action, channel, "
                "actor_username, user_agent, registry_address, credential_name, "
                "credential_username, detail, chain_seq, prev_hash, hash) VALUES (-1, now(), "
                "'console.sign_in', 'console', 'shadow', '', '', '', '', '{}', -1, '', 'x')"
            )
            _, seq, _ = plant("now", "through-the-shadow")
        finally:
            cursor.execute(f"DROP TABLE pg_temp.{audit_chain.TABLE}")
    assert seq == len(events) + 1
    assert f"{len(events) + 1} event(s)" in verify()


def test_an_event_at_chain_position_0_is_refused_by_the_database(
    events: list[AuditEvent],
) -> None:
    with pytest.raises(IntegrityError, match="audit_chain_seq_positive"), transaction.atomic():
        superuser_sql(PLANT, ["now", "planted", 0])
    assert AuditEvent.objects.count() == len(events)


def test_an_event_the_chain_does_not_reach_is_counted_and_named(
    events: list[AuditEvent],
) -> None:
    head = verify().rsplit("head ", 1)[1].strip()
    # As the owner could: the constraint dropped, the event written with the triggers off.
    superuser_sql(
        f"ALTER TABLE {audit_chain.TABLE} DROP CONSTRAINT IF EXISTS audit_chain_seq_positive"
    )
    superuser_sql(PLANT, ["now", "planted", 0])
    planted = AuditEvent.objects.get(actor_username="planted")
    expected = (
        f"the table holds {len(events) + 1} events, the chain {len(events)}: "
        f"event {planted.id} is outside the chain \\(chain position 0\\)"
    )
    with pytest.raises(CommandError, match=expected):
        verify()
    with pytest.raises(CommandError, match=expected):
        verify("--expect-head", head)  # the head is intact: the count is what shows it


def test_an_event_dated_before_the_event_before_it_is_named(events: list[AuditEvent]) -> None:
    last, before = events[-1], events[-2]
    superuser_sql(
        f"UPDATE {audit_chain.TABLE} SET created_at = %s WHERE id = %s",
        [before.created_at - timedelta(hours=1), last.id],
    )
    # Its hash recomputed, so the chain itself still holds: only the time shows it.
    superuser_sql(
        f"UPDATE {audit_chain.TABLE} e SET hash = encode(sha256(convert_to(e.prev_hash || "
        + audit_chain.canonical("e")
        + ", 'UTF8')), 'hex') WHERE id = %s",
        [last.id],
    )
    with pytest.raises(
        CommandError,
        match=f"event {last.id} \\(chain position {last.chain_seq}\\) is dated before the event "
        f"before it",
    ):
        verify()


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


# The migration that hands the trail's times to the database (its number follows main's).
HARDENING = "audit_time_from_database"


def _migrate(*, latest: bool) -> None:
    """To the latest migration, or to the one before HARDENING (undoing it and any after)."""
    executor = MigrationExecutor(connection)
    graph = executor.loader.graph
    if latest:
        executor.migrate(graph.leaf_nodes("credentials"))
        return
    (hardening,) = [key for key in graph.nodes if key[1].endswith(HARDENING)]
    executor.migrate(
        [
            parent.key
            for parent in graph.node_map[hardening].parents
            if parent.key[0] == hardening[0]
        ]
    )


@pytest.mark.django_db(transaction=True)
def test_a_populated_trail_still_verifies_after_the_migration(db: None) -> None:
    _migrate(latest=False)
    try:
        # As the trail was before it: each event dated by its caller, not always in order
        # (the process's clock when the event was built, not when it took the chain's tail).
        for when, username in [
            ("now", "first"),
            ("2001-02-03T04:05:06Z", "early"),
            ("now", "last"),
        ]:
            plant(when, username)
    finally:
        _migrate(latest=True)
    assert "4 event(s)" in verify()
    marker = AuditEvent.objects.get(chain_seq=4)
    assert marker.action == AuditEvent.Action.DATABASE_CLOCK
    assert marker.channel == AuditEvent.Channel.SYSTEM
    after = AuditEvent.record(AuditEvent.Action.SIGN_IN, Actor(None, username="after"))
    stored = AuditEvent.objects.get(pk=after.pk)
    assert (stored.chain_seq, stored.created_at) == (5, after.created_at)
    assert "5 event(s)" in verify()


@pytest.mark.django_db(transaction=True)
def test_the_migration_stops_at_an_event_outside_the_chain_and_names_it(db: None) -> None:
    _migrate(latest=False)
    try:
        plant("now", "chained")
        superuser_sql(PLANT, ["now", "planted", 0])
        planted = AuditEvent.objects.get(actor_username="planted").id
        with pytest.raises(
            CommandError, match=f"event {planted} .*chain position 0.*docs/AUDIT.md"
        ):
            _migrate(latest=True)
        superuser_sql(f"DELETE FROM {audit_chain.TABLE} WHERE id = %s", [planted])
    finally:
        _migrate(latest=True)
    assert "2 event(s)" in verify()
