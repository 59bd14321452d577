"""What the database enforces and indexes, checked on PostgreSQL itself."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from credentials import registry_auth
from credentials.models import Actor, LongTermCredential, Registry, TemporaryCredential, User
from tests.helpers import mint_temporary

TABLES = {
    LongTermCredential._meta.db_table: "long_term_username_unique",
    TemporaryCredential._meta.db_table: "temporary_username_unique",
}


def test_usernames_have_one_unique_index_and_no_pattern_index(db: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, indexname, indexdef FROM pg_indexes "
            "WHERE tablename = ANY(%s) AND indexdef LIKE '%%(username%%'",
            [list(TABLES)],
        )
        found = {(table, name): definition for table, name, definition in cursor.fetchall()}
    assert set(found) == set(TABLES.items())
    assert all("UNIQUE" in definition for definition in found.values())
    assert not [d for d in found.values() if "pattern_ops" in d]


def test_a_username_cannot_be_stored_twice(owner: User, registry: Registry) -> None:
    credential, _ = LongTermCredential.objects.create_for(
        owner=owner, registry=registry, name="first", by=Actor(user=owner)
    )
    twin = LongTermCredential(
        owner=owner, registry=registry, name="second", username=credential.username
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()
    minted, _ = mint_temporary(owner, registry)
    copy = TemporaryCredential(
        user=owner,
        project_name=minted.project_name,
        username=minted.username,
        expires_at=timezone.now(),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save()
    assert LongTermCredential.objects.filter(username=credential.username).count() == 1
    assert TemporaryCredential.objects.filter(username=minted.username).count() == 1


def test_the_token_lookup_is_an_index_scan_by_username(db: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # as at 100,000 rows, with a few
        now = timezone.now()
        cursor.execute(
            "EXPLAIN " + registry_auth._LOOKUP,
            [now, now, now, "cn-north-4@X", "cn-north-4@X", now],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "long_term_username_unique" in plan, plan
    assert "temporary_username_unique" in plan, plan


def test_the_suite_runs_on_postgresql(db: None) -> None:
    assert connection.vendor == "postgresql", (
        "The tests must run against PostgreSQL: run them with `make test`, which starts one."
    )
