"""What the database enforces and indexes: on both databases, and on PostgreSQL itself."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from credentials.models import Actor, LongTermCredential, Registry, TemporaryCredential, User
from credentials.registry import principals as registry_auth
from tests.helpers import mint_temporary

TABLES = {
    LongTermCredential._meta.db_table: "long_term_username_unique",
    TemporaryCredential._meta.db_table: "temporary_username_unique",
}


@pytest.mark.postgresql(reason="PostgreSQL's catalog of indexes")
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


@pytest.mark.postgresql(reason="PostgreSQL's query plans")
def test_the_token_lookup_is_an_index_scan_by_username(owner: User, registry: Registry) -> None:
    # The planner chooses by statistics: on a near-empty table any index (or none) is as cheap,
    # so the tables are given a few thousand rows and analysed, as they are in production.
    rows = 3000
    later = timezone.now() + timedelta(days=1)
    LongTermCredential.objects.bulk_create(
        LongTermCredential(
            owner=owner, registry=registry, name=f"c{n}", username=f"cn-north-4@L{n}"
        )
        for n in range(rows)
    )
    TemporaryCredential.objects.bulk_create(
        TemporaryCredential(
            user=owner, project_name="p", username=f"cn-north-4@T{n}", expires_at=later
        )
        for n in range(rows)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(TABLES)}")
        now = timezone.now()
        cursor.execute(
            "EXPLAIN " + registry_auth._LOOKUP,
            [now, now, now, "cn-north-4@L7", "cn-north-4@L7", now],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    for table in TABLES:  # (the one-row user and registry tables may well be read whole)
        assert f"Seq Scan on {table}" not in plan, plan
    assert "Index Scan using long_term_username_unique" in plan, plan
    assert "Index Scan using temporary_username_unique" in plan, plan


@pytest.mark.postgresql(reason="the PostgreSQL pass's own check")
def test_the_suite_runs_on_postgresql(db: None) -> None:
    assert connection.vendor == "postgresql", (
        "The tests must run against PostgreSQL: run them with `make test`, which starts one."
    )
