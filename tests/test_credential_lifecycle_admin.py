"""The admin side of the credential lifecycle: the expiry and staleness filters, the Expires
column and export, and the bulk Enable refusing expired credentials."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from credentials.models import Actor, AuditEvent, LongTermCredential, Registry, User
from tests.helpers import NOW, client_for

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:credentials_longtermcredential_changelist"


@pytest.fixture
def cast(owner: User, registry: Registry, time_machine) -> dict[str, LongTermCredential]:
    """Credentials of every kind, made at the moments their story needs."""

    def at(moment: datetime, name: str, **kwargs: object) -> LongTermCredential:
        time_machine.move_to(moment, tick=False)
        credential, _ = LongTermCredential.objects.create_for(
            owner=owner, registry=registry, name=name, by=Actor(user=owner), **kwargs
        )
        return credential

    made = {
        "new-never-used": at(NOW - timedelta(days=5), "new-never-used", expires_at=None),
        "old-never-used": at(NOW - timedelta(days=100), "old-never-used", expires_at=None),
        "used-40-days-ago": at(NOW - timedelta(days=100), "used-40-days-ago", expires_at=None),
        "used-100-days-ago": at(NOW - timedelta(days=200), "used-100-days-ago", expires_at=None),
        "used-today": at(NOW - timedelta(days=200), "used-today", expires_at=None),
        "expires-in-3-days": at(NOW - timedelta(days=1), "expires-in-3-days",
                                expires_at=NOW + timedelta(days=3)),
        "expires-in-20-days": at(NOW - timedelta(days=1), "expires-in-20-days",
                                 expires_at=NOW + timedelta(days=20)),
        "expired": at(NOW - timedelta(days=40), "expired", expires_at=NOW - timedelta(days=10)),
    }  # fmt: skip
    for name, days in (("used-40-days-ago", 40), ("used-100-days-ago", 100), ("used-today", 0)):
        LongTermCredential.objects.filter(pk=made[name].pk).update(
            last_used_at=NOW - timedelta(days=days, minutes=1)
        )
    time_machine.move_to(NOW, tick=False)
    return made


def names(client: Client, **query: str) -> set[str]:
    response = client.get(reverse(CHANGELIST), query)
    assert response.status_code == 200
    page = response.content.decode()
    return {
        name
        for name in (
            "new-never-used",
            "old-never-used",
            "used-40-days-ago",
            "used-100-days-ago",
            "used-today",
            "expires-in-3-days",
            "expires-in-20-days",
            "expired",
        )
        if f">{name}</a>" in page
    }


def test_the_staleness_filters(staff_user: User, cast) -> None:
    client = client_for(staff_user)
    assert names(client, used="never") == {
        "new-never-used",
        "old-never-used",
        "expires-in-3-days",
        "expires-in-20-days",
        "expired",
    }
    assert names(client, used="30") == {
        "old-never-used",
        "used-40-days-ago",
        "used-100-days-ago",
        "expired",  # created 40 days ago, never used
    }
    assert names(client, used="90") == {"old-never-used", "used-100-days-ago"}


def test_the_expiry_filter(staff_user: User, cast) -> None:
    client = client_for(staff_user)
    assert names(client, expiry="expired") == {"expired"}
    assert names(client, expiry="7") == {"expires-in-3-days"}
    assert names(client, expiry="30") == {"expires-in-3-days", "expires-in-20-days"}
    assert "expires-in-3-days" not in names(client, expiry="never")
    assert "used-today" in names(client, expiry="never")
    page = client.get(reverse(CHANGELIST), {"expiry": "7"}).content.decode()
    assert "Expires within 7 days" in page
    assert "Not used for 90 days" in page


def test_the_export_has_expires_at(staff_user: User, cast) -> None:
    response = client_for(staff_user).get(
        reverse("admin:credentials_longtermcredential_export"), {"expiry": "7"}
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    expires = rows[0].index("Expires At")
    assert rows[0][expires - 1] == "Created At"
    # ISO-8601 in UTC, to the second, as every export (docs/DECISIONS.md, issue 17).
    assert rows[1][expires] == (NOW + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_bulk_enable_refuses_expired_credentials_and_says_so(
    staff_user: User, owner: User, cast
) -> None:
    expired, live = cast["expired"], cast["used-today"]
    for credential in (expired, live):
        credential.disable(by=Actor(user=owner))
    client = client_for(staff_user)
    response = client.post(
        reverse(CHANGELIST),
        {
            "action": "enable_selected",
            "_selected_action": [expired.pk, live.pk],
            "apply": "yes",
            "reason": "back in use",
        },
        follow=True,
    )
    page = response.content.decode()
    assert "1 credential(s) enabled; 0 already were." in page
    assert "1 expired credential(s) not enabled" in page
    assert not LongTermCredential.objects.get(pk=expired.pk).is_enabled
    assert LongTermCredential.objects.get(pk=live.pk).is_enabled
    enabled = AuditEvent.objects.filter(action=AuditEvent.Action.LONG_TERM_ENABLED)
    assert list(enabled.values_list("credential_name", flat=True)) == ["used-today"]
