"""insert_together: several new rows in one statement on PostgreSQL, all or none."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from credentials.models import (
    TEMPORARY_VALIDITY,
    Actor,
    AuditEvent,
    Registry,
    TemporaryCredential,
    User,
    insert_together,
)

pytestmark = pytest.mark.django_db(transaction=True)


def rows(owner: User, registry: Registry, action: str = AuditEvent.Action.TEMPORARY_ISSUED):
    credential = TemporaryCredential(
        user=owner,
        project_name=registry.project_name,
        username="cn-north-4@INSERTTOGETHER000001",
        password_digest="0" * 64,
        expires_at=timezone.now() + TEMPORARY_VALIDITY,
    )
    event = AuditEvent.build(action, Actor(user=owner), credential=credential, registry=registry)
    return credential, event


@pytest.fixture(
    params=[
        pytest.param(
            "postgresql",
            marks=pytest.mark.postgresql(reason="one statement of data-modifying WITH clauses"),
        ),
        "elsewhere",
    ]
)
def vendor(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "elsewhere":  # the transaction the SQLite default takes
        monkeypatch.setattr(connection, "vendor", "sqlite")
    return request.param


def test_both_rows_are_stored_with_their_keys(vendor: str, owner: User, registry: Registry) -> None:
    credential, event = rows(owner, registry)
    with CaptureQueriesContext(connection) as queries:
        insert_together(credential, event)
    stored = TemporaryCredential.objects.get(pk=credential.pk)
    assert (stored.username, stored.password_digest) == (
        credential.username,
        credential.password_digest,
    )
    assert AuditEvent.objects.get(pk=event.pk).credential_username == credential.username
    assert not credential._state.adding
    inserts = [q for q in queries.captured_queries if "INSERT" in q["sql"]]
    assert len(inserts) == (1 if vendor == "postgresql" else 2)


def test_a_failing_row_stores_neither(vendor: str, owner: User, registry: Registry) -> None:
    credential, event = rows(owner, registry)
    event.action = None  # a NOT NULL column: refused by every database
    with pytest.raises(DatabaseError), transaction.atomic():
        insert_together(credential, event)
    assert not TemporaryCredential.objects.exists()
    assert not AuditEvent.objects.exists()
