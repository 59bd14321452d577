"""What the database enforces and indexes: on both databases, and on PostgreSQL itself."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from credentials.models import (
    Actor,
    LongTermCredential,
    Organization,
    Permission,
    Registry,
    TemporaryCredential,
    User,
    access,
    credential_access,
)
from credentials.models.sql import fetch_all
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
        service, name = registry.address, "cn-north-4@L7"
        cursor.execute(
            "EXPLAIN " + registry_auth._LOOKUP, [now, now, service, now, name, service, name, now]
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    for table in TABLES:  # (the one-row user and registry tables may well be read whole)
        assert f"Seq Scan on {table}" not in plan, plan
    assert "Index Scan using long_term_username_unique" in plan, plan
    assert "Index Scan using temporary_username_unique" in plan, plan


@pytest.mark.postgresql(reason="PostgreSQL's query plans")
def test_the_permission_lookup_reads_only_the_grants_it_needs(
    owner: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Seeded as the benchmark is, smaller: groups holding grants in many organizations, the
    # owner in two of them. Joined from the user's groups, the plan read every grant of each
    # group (the group's own index) to keep the few in the organization asked about.
    call_command(
        "seed_demo_data", users=300, credentials=0, events=0, bench_credentials=0,
        organizations=300, grants=20_000, stdout=io.StringIO(),
    )  # fmt: skip
    registry = Registry.objects.get(address=settings.SWR_DEFAULT_REGISTRY_ADDRESS)
    operator = Actor(user=None, channel="system")
    team = Organization.objects.create_for(registry=registry, name="bench", by=operator)
    owner.groups.add(*Group.objects.filter(organization_permissions__isnull=False)[:2])
    credential, _ = LongTermCredential.objects.create_for(
        owner=owner, registry=registry, name="ci", by=Actor(user=owner), organizations=[team]
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    plans = []

    def explain(sql: str, params: list) -> list:
        plans.extend(row[0] for row in fetch_all("EXPLAIN " + sql, params))
        return []

    monkeypatch.setattr(access, "fetch_all", explain)
    credential_access(credential, ["bench/app"])
    plan = "\n".join(plans)
    permissions = Permission._meta.db_table
    assert f"Seq Scan on {permissions}" not in plan, plan
    assert "using permission_per_user" in plan, plan
    assert "on permission_per_group" in plan or "using permission_per_group" in plan, plan
    # No grant is read through an index of one column (a group's, a user's).
    assert not re.search(rf"(using|on) {permissions}_\w+_id_\w+", plan), plan


@pytest.mark.postgresql(reason="the PostgreSQL pass's own check")
def test_the_suite_runs_on_postgresql(db: None) -> None:
    assert connection.vendor == "postgresql", (
        "The tests must run against PostgreSQL: run them with `make test`, which starts one."
    )
