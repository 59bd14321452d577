"""The admin's search takes the beginning of a name, served by an index at any size; its CSV
export keeps ISO-8601 UTC; a page an Auditor may not see says so with a way back."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.contrib import admin
from django.db import connection
from django.test import Client, RequestFactory
from django.urls import reverse

from credentials.models import Actor, AuditEvent, LongTermCredential, Registry, User
from tests.helpers import client_for, make_user, new_credential

pytestmark = pytest.mark.django_db

CREDENTIALS = "admin:credentials_longtermcredential_changelist"
EVENTS = "admin:credentials_auditevent_changelist"


def listed(client: Client, url_name: str, term: str) -> list[str]:
    page = client.get(reverse(url_name), {"q": term}).content.decode()
    return re.findall(r'class="field-name"><a href="[^"]+">([^<]+)</a>', page) or re.findall(
        r'<td class="field-credential"><a href="[^"]+">([^<]+)</a>', page
    )


@pytest.fixture
def named(owner: User, registry: Registry) -> None:
    for name in ("ci-bot", "ci-deploy", "my-ci"):
        new_credential(owner, registry, name)
    new_credential(make_user("alfred"), registry, "other")


def test_credentials_are_found_by_the_beginning_of_a_name(staff_user: User, named) -> None:
    client = client_for(staff_user)
    assert sorted(listed(client, CREDENTIALS, "ci")) == ["ci-bot", "ci-deploy"]
    assert sorted(listed(client, CREDENTIALS, "al")) == ["ci-bot", "ci-deploy", "my-ci", "other"]
    username = LongTermCredential.objects.get(name="other").username
    assert listed(client, CREDENTIALS, username) == ["other"]  # a username, whole
    assert listed(client, CREDENTIALS, "bot") == []  # the beginning, not any part


def test_events_are_found_by_the_beginning_of_a_name(staff_user: User, named) -> None:
    client = client_for(staff_user)
    usernames = dict(LongTermCredential.objects.values_list("name", "username"))
    assert set(listed(client, EVENTS, usernames["ci-bot"][:-2])) == {"ci-bot"}
    assert set(listed(client, EVENTS, "ci-bot")) == {"ci-bot"}  # a name, whole
    assert listed(client, EVENTS, "ci-") == []
    assert set(listed(client, EVENTS, "alfred")) == {"other"}  # by the actor, exactly
    assert listed(client, EVENTS, "alf") == []
    assert listed(client, EVENTS, "deploy") == []


def plan(queryset) -> str:
    """The plan PostgreSQL chooses for a table of a few thousand rows, analysed.

    On a near-empty table every index (or none) is about as cheap, and the planner's choice
    between them is chance.
    """
    model = queryset.model
    owner, registry = make_user("filler"), Registry.objects.first()
    rows = [
        model(owner=owner, registry=registry, name=f"x{n}", username=f"cn-north-4@Y{n}")
        if model is LongTermCredential
        else model(
            action=AuditEvent.Action.LONG_TERM_CREATED,
            credential_name=f"x{n}",
            credential_username=f"cn-north-4@Y{n}",
            actor_username="filler",
        )
        for n in range(3000)
    ]
    model.objects.bulk_create(rows)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {model._meta.db_table}")
        cursor.execute("SET LOCAL enable_seqscan = off")  # and as the largest tables would
    return queryset.explain()


@pytest.mark.postgresql(reason="PostgreSQL's indexes and query plans")
@pytest.mark.parametrize(
    ("model", "indexes"),
    [
        (LongTermCredential, ["credential_name_prefix"]),
        (AuditEvent, ["audit_by_username_prefix"]),
    ],
)
def test_every_prefix_condition_is_served_by_an_index(
    staff_user: User, named, model, indexes: list[str]
) -> None:
    request = RequestFactory().get("/admin/")
    request.user = staff_user
    model_admin = admin.site._registry[model]
    found, _ = model_admin.get_search_results(request, model.objects.all(), "ci-")
    # The condition alone: with the list's order the planner may rather walk the newest-first
    # index and filter, which it judges by the table's size.
    shown = plan(found.order_by())
    for index in indexes:
        assert index in shown, shown  # the index behind each LIKE 'ci-%'
    assert "Seq Scan" not in shown


def test_the_export_keeps_iso_8601_utc(staff_user: User, owner: User, registry: Registry) -> None:
    credential, _ = new_credential(owner, registry, "ci-bot")
    credential.disable(by=Actor(user=owner))
    response = client_for(staff_user).get(reverse("admin:credentials_auditevent_export"))
    header, *rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert header[0] == "Time"
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row[0]) for row in rows)


def test_the_admin_shows_times_in_the_one_format(staff_user: User, owner: User, registry) -> None:
    new_credential(owner, registry, "ci-bot")
    page = client_for(staff_user).get(reverse(CREDENTIALS)).content.decode()
    assert re.search(r'<td class="field-created_at[^"]*">\d{4}-\d\d-\d\d \d\d:\d\d UTC</td>', page)


def test_a_forbidden_admin_page_explains_itself(auditor: User) -> None:
    response = client_for(auditor).get(reverse("admin:credentials_user_changelist"))
    assert response.status_code == 403
    page = response.content.decode()
    assert "<h1>Not allowed</h1>" in page
    assert 'href="/admin/"' in page
    chinese = client_for(auditor).get(
        reverse("admin:credentials_user_changelist"), headers={"accept-language": "zh-hans"}
    )
    assert "无权访问" in chinese.content.decode()


def test_the_credential_page_sends_auditors_to_lists_they_may_open(
    auditor: User, owner: User, registry: Registry
) -> None:
    credential, _ = new_credential(owner, registry, "ci-bot")
    client = client_for(auditor)
    page = client.get(
        reverse("admin:credentials_longtermcredential_change", args=[credential.pk])
    ).content.decode()
    links = re.findall(r'href="(/admin/[^"]+)"', page)
    assert any("owner=alice" in link for link in links)
    for link in links:
        if "logout" in link or "password_change" in link:
            continue
        assert client.get(link.replace("&amp;", "&")).status_code == 200, link
