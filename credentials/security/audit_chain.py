"""The audit trail's hash chain: each event carries the SHA-256 of the event before it and of
its own content, so a missing, altered or reordered event shows (verify_audit_trail).

PostgreSQL computes the chain as each event is inserted (a BEFORE INSERT trigger, migration
0011), whoever inserts it, however (the ORM, insert_together's one statement, bulk_create):
the trigger takes a transaction-level advisory lock, so two events inserted at once are
chained one after the other, never both after the same event. It also dates the event by the
database's clock once it holds the chain's tail, whatever time the INSERT named, so times never
run backwards along the chain. Its function runs with a fixed search_path and names the trail
by its schema: a temporary table called like the trail cannot stand in for it.

The verification recomputes every hash here, in Python, from the stored columns, so a replaced
trigger function cannot vouch for itself; it counts the table against the chain (an event at no
chain position, or at one the walk never reaches, shows) and checks the times. Only a chain
*head* recorded outside the database (--expect-head) also shows a trail that was cut short or
rebuilt whole by someone holding the owner's keys.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction

TABLE = "credentials_auditevent"
# The schema the migrations create the trail in (db_roles grants in the same one).
SCHEMA = "public"
QUALIFIED = f"{SCHEMA}.{TABLE}"
# What the trail's functions resolve unqualified names through: PostgreSQL's own catalog, then
# the session's temporary schema, last (where it would otherwise come first for tables).
SEARCH_PATH = "pg_catalog, pg_temp"
# The event the migration that gave the dating to the database wrote after the events already
# there (which their writers dated, not always in chain order): times are checked from it on.
DATABASE_CLOCK = "audit.database_clock"
# pg_advisory_xact_lock key of the chain's tail: any constant, the same in every process.
CHAIN_LOCK = 7_201_912


def canonical(row: str, seq: str | None = None) -> str:
    """SQL text of one event's content, as hashed (version 1: never change it — rows already
    chained depend on it; a new audit column needs a new version)."""
    return (
        f"jsonb_build_array({seq or row + '.chain_seq'}, {row}.id, "
        f"to_char({row}.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), "
        f"{row}.action, {row}.channel, {row}.actor_id, {row}.actor_username, "
        f"host({row}.ip_address), {row}.user_agent, {row}.registry_id, {row}.registry_address, "
        f"{row}.credential_public_id::text, {row}.credential_name, {row}.credential_username, "
        f"{row}.detail)::text"
    )


def chain_hash(prev_hash: str, content: str) -> str:
    return hashlib.sha256((prev_hash + content).encode()).hexdigest()


FUNCTION = f"""
CREATE OR REPLACE FUNCTION {SCHEMA}.credentials_auditevent_chain() RETURNS trigger
LANGUAGE plpgsql SET search_path = {SEARCH_PATH} AS $$
DECLARE
    last_seq bigint;
    last_hash text;
BEGIN
    PERFORM pg_advisory_xact_lock({CHAIN_LOCK});
    SELECT e.chain_seq, e.hash INTO last_seq, last_hash FROM {QUALIFIED} e
        WHERE e.chain_seq IS NOT NULL ORDER BY e.chain_seq DESC LIMIT 1;
    -- Read once the tail is ours (not now(), the transaction's start): never before the
    -- event this one follows. The caller's value, if any, is not kept.
    NEW.created_at := clock_timestamp();
    NEW.chain_seq := coalesce(last_seq, 0) + 1;
    NEW.prev_hash := coalesce(last_hash, '');
    NEW.hash := encode(sha256(convert_to(NEW.prev_hash || {canonical("NEW")}, 'UTF8')), 'hex');
    RETURN NEW;
END;
$$;
"""  # noqa: S608 - names and SQL text from this module, no values

TRIGGER = f"""{FUNCTION}
CREATE TRIGGER credentials_auditevent_chain
    BEFORE INSERT ON {QUALIFIED}
    FOR EACH ROW EXECUTE FUNCTION {SCHEMA}.credentials_auditevent_chain();
"""

# Chains the events that exist when the chain is introduced, in the order of their ids.
BACKFILL = f"""
ALTER TABLE {TABLE} DISABLE TRIGGER credentials_auditevent_append_only;
DO $$
DECLARE
    event_id bigint;
    seq bigint := 0;
    previous text := '';
BEGIN
    FOR event_id IN SELECT id FROM {TABLE} ORDER BY id LOOP
        seq := seq + 1;
        UPDATE {TABLE} e SET chain_seq = seq, prev_hash = previous,
            hash = encode(sha256(convert_to(previous || {canonical("e", "seq")}, 'UTF8')), 'hex')
            WHERE e.id = event_id
            RETURNING e.hash INTO previous;
    END LOOP;
END $$;
ALTER TABLE {TABLE} ENABLE TRIGGER credentials_auditevent_append_only;
"""  # noqa: S608 - names and SQL text from this module, no values

DROP = f"""
DROP TRIGGER IF EXISTS credentials_auditevent_chain ON {QUALIFIED};
DROP FUNCTION IF EXISTS {SCHEMA}.credentials_auditevent_chain();
"""


@dataclass(frozen=True)
class Report:
    events: int
    head_seq: int
    head_hash: str
    problem: str = ""


def verify(batch_size: int = 10_000, expect_head: tuple[int, str] | None = None) -> Report:
    """Walk the chain in order, `batch_size` events at a time (constant memory), and name the
    first event that is missing, altered, out of order, dated before the one it follows, or
    outside the chain; all of it in one snapshot of the table."""
    with _snapshot():
        return _verify(batch_size, expect_head)


def _verify(batch_size: int, expect_head: tuple[int, str] | None) -> Report:
    dated_from = _dated_by_the_database_from()
    count, seq, previous, last_time = 0, 0, "", None
    for row_seq, event_id, prev_hash, stored, content, created_at in _rows(batch_size):
        count += 1
        if row_seq != seq + 1:
            return Report(count - 1, seq, previous, _gap(seq, row_seq, event_id))
        if prev_hash != previous:
            return Report(
                count - 1,
                seq,
                previous,
                f"event {event_id} (chain position {row_seq}) does not follow the event "
                "before it: events were reordered, or one before it is missing",
            )
        if chain_hash(prev_hash, content) != stored:
            return Report(
                count - 1,
                seq,
                previous,
                f"event {event_id} (chain position {row_seq}) was altered: its content no "
                "longer matches its hash",
            )
        if row_seq >= dated_from:
            if last_time is not None and created_at < last_time:
                return Report(
                    count - 1, seq, previous, _backwards(event_id, row_seq, created_at, last_time)
                )
            last_time = created_at
        seq, previous = row_seq, stored
    problem = _outside(count)
    if not problem and expect_head is not None:
        problem = _check_head(*expect_head)
    return Report(count, seq, previous, problem)


@contextmanager
def _snapshot() -> Iterator[None]:
    """A read-only, repeatable-read transaction: the walk's batches and the count see the same
    rows while events keep being added (a caller already in a transaction keeps its own)."""
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def _dated_by_the_database_from() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT min(chain_seq) FROM {QUALIFIED} WHERE action = %s",  # noqa: S608
            [DATABASE_CLOCK],
        )
        return cursor.fetchone()[0] or 1


def _backwards(event_id: int, row_seq: int, created_at: datetime, before: datetime) -> str:
    return (
        f"event {event_id} (chain position {row_seq}) is dated before the event before it "
        f"({created_at.isoformat()} < {before.isoformat()}): time runs backwards, so its time "
        "was not the database's"
    )


def _outside(chained: int) -> str:
    """Every event of the table is on the chain the walk followed, or the first that is not."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {QUALIFIED}")  # noqa: S608
        total = cursor.fetchone()[0]
        if total == chained:
            return ""
        cursor.execute(
            f"SELECT id, chain_seq FROM {QUALIFIED} "  # noqa: S608
            "WHERE chain_seq IS NULL OR chain_seq < 1 ORDER BY id LIMIT 1"
        )
        found = cursor.fetchone()
    where = f"the table holds {total} events, the chain {chained}"
    if found is None:
        return where
    event_id, chain_seq = found
    why = (
        "inserted while its trigger was disabled"
        if chain_seq is None
        else f"chain position {chain_seq}"
    )
    return f"{where}: event {event_id} is outside the chain ({why})"


def _gap(seq: int, row_seq: int, event_id: int) -> str:
    if row_seq > seq + 1:
        return (
            f"{row_seq - seq - 1} event(s) missing before event {event_id} "
            f"(chain positions {seq + 1}–{row_seq - 1})"
        )
    return f"event {event_id} repeats chain position {row_seq}: events were reordered"


def _check_head(head_seq: int, head_hash: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT hash FROM {QUALIFIED} WHERE chain_seq = %s",  # noqa: S608
            [head_seq],
        )
        found = cursor.fetchone()
    if found is None:
        return f"the recorded head (chain position {head_seq}) is missing: the trail was cut short"
    if found[0] != head_hash:
        return (
            f"the recorded head (chain position {head_seq}) has another hash: the trail was rebuilt"
        )
    return ""


def _rows(batch_size: int) -> Iterator[tuple[int, int, str, str, str, datetime]]:
    after = 0
    query = (
        f"SELECT e.chain_seq, e.id, e.prev_hash, e.hash, {canonical('e')}, "  # noqa: S608
        f"e.created_at FROM {QUALIFIED} e WHERE e.chain_seq > %s ORDER BY e.chain_seq LIMIT %s"
    )
    while True:
        with connection.cursor() as cursor:
            cursor.execute(query, [after, batch_size])
            rows = cursor.fetchall()
        yield from rows
        if len(rows) < batch_size:
            return
        after = rows[-1][0]
