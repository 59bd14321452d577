"""The audit trail's hash chain: each event carries the SHA-256 of the event before it and of
its own content, so a missing, altered or reordered event shows (verify_audit_trail).

PostgreSQL computes the chain as each event is inserted (a BEFORE INSERT trigger, migration
0011), whoever inserts it, however (the ORM, insert_together's one statement, bulk_create):
the trigger takes a transaction-level advisory lock, so two events inserted at once are
chained one after the other, never both after the same event. The verification recomputes
every hash here, in Python, from the stored columns, so a replaced trigger function cannot
vouch for itself. Only a chain *head* recorded outside the database (--expect-head) also
shows a trail that was cut short or rebuilt whole by someone holding the owner's keys.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection

TABLE = "credentials_auditevent"
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


TRIGGER = f"""
CREATE OR REPLACE FUNCTION credentials_auditevent_chain() RETURNS trigger AS $$
DECLARE
    last_seq bigint;
    last_hash text;
BEGIN
    PERFORM pg_advisory_xact_lock({CHAIN_LOCK});
    SELECT e.chain_seq, e.hash INTO last_seq, last_hash FROM {TABLE} e
        WHERE e.chain_seq IS NOT NULL ORDER BY e.chain_seq DESC LIMIT 1;
    NEW.chain_seq := coalesce(last_seq, 0) + 1;
    NEW.prev_hash := coalesce(last_hash, '');
    NEW.hash := encode(sha256(convert_to(NEW.prev_hash || {canonical("NEW")}, 'UTF8')), 'hex');
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER credentials_auditevent_chain
    BEFORE INSERT ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION credentials_auditevent_chain();
"""  # noqa: S608 - names and SQL text from this module, no values

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
DROP TRIGGER IF EXISTS credentials_auditevent_chain ON {TABLE};
DROP FUNCTION IF EXISTS credentials_auditevent_chain();
"""


@dataclass(frozen=True)
class Report:
    events: int
    head_seq: int
    head_hash: str
    problem: str = ""


def verify(batch_size: int = 10_000, expect_head: tuple[int, str] | None = None) -> Report:
    """Walk the chain in order, `batch_size` events at a time (constant memory), and name the
    first event that is missing, altered or out of order."""
    count, seq, previous = 0, 0, ""
    for row_seq, event_id, prev_hash, stored, content in _rows(batch_size):
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
        seq, previous = row_seq, stored
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT min(id) FROM {TABLE} WHERE chain_seq IS NULL")  # noqa: S608
        outside = cursor.fetchone()[0]
    if outside is not None:
        return Report(
            count,
            seq,
            previous,
            f"event {outside} is outside the chain (inserted while its trigger was disabled)",
        )
    if expect_head is not None:
        problem = _check_head(*expect_head)
        if problem:
            return Report(count, seq, previous, problem)
    return Report(count, seq, previous)


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
            f"SELECT hash FROM {TABLE} WHERE chain_seq = %s",  # noqa: S608
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


def _rows(batch_size: int) -> Iterator[tuple[int, int, str, str, str]]:
    after = 0
    query = (
        f"SELECT e.chain_seq, e.id, e.prev_hash, e.hash, {canonical('e')} "  # noqa: S608
        f"FROM {TABLE} e WHERE e.chain_seq > %s ORDER BY e.chain_seq LIMIT %s"
    )
    while True:
        with connection.cursor() as cursor:
            cursor.execute(query, [after, batch_size])
            rows = cursor.fetchall()
        yield from rows
        if len(rows) < batch_size:
            return
        after = rows[-1][0]
