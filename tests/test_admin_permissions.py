"""The admin's Organizations and Permissions: Auditors and superusers see every grant (where,
for whom, which level, granted by whom and when), filter, search and export who can push where;
nobody adds, changes or deletes one there; the lists cost the same queries at 5 rows as at 50."""

from __future__ import annotations

import csv
import io

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from credentials.models import Actor, AuditEvent, Organization, Permission, Registry, User
from credentials.rules import EDIT, MANAGE, READ
from tests.helpers import client_for, permit
from tests.test_admin_i18n import Node, parse

pytestmark = pytest.mark.django_db

PERMISSIONS = "admin:credentials_permission_changelist"
ORGANIZATIONS = "admin:credentials_organization_changelist"
EXPORT = "admin:credentials_permission_export"
COLUMNS = (
    "organization_name",
    "registry_name",
    "where",
    "grantee",
    "kind",
    "level_code",
    "granter",
)


@pytest.fixture
def grants(owner: User, other_user: User, registry: Registry, other_registry: Registry) -> Group:
    """alice creates team-a (Manage) and gives bob Edit on it and the group developers Read on
    team-a/app; the operator gives bob Read on team-b of the second registry."""
    by_alice = Actor(user=owner)
    team_a = Organization.objects.create_for(registry=registry, name="team-a", by=by_alice)
    team_a.grant(level=EDIT, by=by_alice, user=other_user)
    developers = Group.objects.create(name="developers")
    team_a.grant(level=READ, by=by_alice, group=developers, repository="app")
    permit(other_registry, "team-b", READ, user=other_user)
    return developers


def rows_of(page: Node, columns: tuple[str, ...] = COLUMNS) -> list[tuple[str, ...]]:
    """The list's rows, each as the text of these columns (their cells' field-<name> class)."""
    found = []
    for row in page.first("table", id="result_list").first("tbody").find("tr"):
        cells = {
            cell.attrs["class"].split()[0]: cell.text()
            for cell in row.children
            if not isinstance(cell, str) and cell.tag in ("th", "td")
        }
        found.append(tuple(cells[f"field-{column}"] for column in columns))
    return sorted(found)


def listed(client: Client, url_name: str = PERMISSIONS, **query: str) -> list[tuple[str, ...]]:
    response = client.get(reverse(url_name), query)
    assert response.status_code == 200
    page = parse(response.content.decode())
    if not page.find("table", id="result_list"):
        return []
    return rows_of(page, COLUMNS if url_name == PERMISSIONS else ORGANIZATION_COLUMNS)


ALICE_MANAGES = ("team-a", "default", "Whole organization", "alice", "User", "Manage (7)", "alice")
BOB_EDITS = ("team-a", "default", "Whole organization", "bob", "User", "Edit (3)", "alice")
DEVELOPERS_READ = ("team-a", "default", "app", "developers", "Group", "Read (1)", "alice")
BOB_READS_B = ("team-b", "second", "Whole organization", "bob", "User", "Read (1)", "system")
ORGANIZATION_COLUMNS = ("name", "registry_name", "creator", "grants")


@pytest.mark.parametrize("viewer", ["auditor", "staff_user"])
def test_auditors_and_superusers_see_every_grant_where_for_whom_and_by_whom(
    request: pytest.FixtureRequest, grants: Group, viewer: str
) -> None:
    client = client_for(request.getfixturevalue(viewer))
    assert listed(client) == sorted([ALICE_MANAGES, BOB_EDITS, DEVELOPERS_READ, BOB_READS_B])
    grant = Permission.objects.get(group=grants)
    page = client.get(reverse("admin:credentials_permission_change", args=[grant.pk]))
    assert page.status_code == 200
    text = parse(page.content.decode()).first("div", id="content-main").text()
    for shown in ("team-a", "default", "app", "developers", "Group", "Read (1)", "alice"):
        assert shown in text
    every_grant = reverse(PERMISSIONS) + "?group=developers"
    assert f'href="{every_grant}"' in page.content.decode()


def test_the_lists_read_in_chinese(auditor: User, grants: Group) -> None:
    client = client_for(auditor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    assert listed(client, group="developers") == [
        ("team-a", "default", "app", "developers", "用户组", "只读 (1)", "alice")
    ]
    assert listed(client, organization="team-b") == [
        ("team-b", "second", "整个组织", "bob", "用户", "只读 (1)", "系统")
    ]
    assert listed(client, ORGANIZATIONS, q="team-a") == [("team-a", "default", "alice", "3 项授权")]
    page = client.get(reverse(PERMISSIONS)).content.decode()
    for label in (
        "用户（用户名）",
        "用户组（名称）",
        "组织（名称）",
        "权限级别",
        "管理 (7)",
        "导出 CSV",
    ):
        assert label in page, label


@pytest.mark.parametrize("viewer", ["auditor", "staff_user"])
def test_nobody_adds_changes_or_deletes_a_grant_or_an_organization_in_the_admin(
    request: pytest.FixtureRequest, grants: Group, viewer: str
) -> None:
    client = client_for(request.getfixturevalue(viewer))
    grant = Permission.objects.get(group=grants)
    organization = grant.organization
    events = AuditEvent.objects.count()
    for model, row, change in (
        ("permission", grant, {"level": MANAGE}),
        ("organization", organization, {"name": "renamed"}),
    ):
        assert client.get(reverse(f"admin:credentials_{model}_add")).status_code == 403
        url = reverse(f"admin:credentials_{model}_change", args=[row.pk])
        assert client.post(url, change).status_code == 403
        delete = reverse(f"admin:credentials_{model}_delete", args=[row.pk])
        assert client.get(delete).status_code == 403
        assert client.post(delete, {"post": "yes"}).status_code == 403
        page = client.get(reverse(f"admin:credentials_{model}_changelist")).content.decode()
        assert 'name="action"' not in page  # no bulk delete either
        assert 'class="addlink"' not in page
        bulk = {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"}
        client.post(reverse(f"admin:credentials_{model}_changelist"), bulk)
    grant.refresh_from_db()
    assert (grant.level, grant.organization.name) == (READ, "team-a")
    assert Permission.objects.count() == 4
    assert Organization.objects.count() == 2
    assert AuditEvent.objects.count() == events


def test_the_filters_narrow_by_user_group_organization_registry_and_level(
    staff_user: User, grants: Group, other_registry: Registry
) -> None:
    client = client_for(staff_user)
    assert listed(client, user="bob") == sorted([BOB_EDITS, BOB_READS_B])
    assert listed(client, group="developers") == [DEVELOPERS_READ]
    assert listed(client, organization="team-a") == sorted(
        [ALICE_MANAGES, BOB_EDITS, DEVELOPERS_READ]
    )
    assert listed(client, registry=str(other_registry.pk)) == [BOB_READS_B]
    assert listed(client, level="3") == [BOB_EDITS]
    assert listed(client, level="7", organization="team-a") == [ALICE_MANAGES]
    assert listed(client, user="bo") == []  # a whole username
    page = client.get(reverse(PERMISSIONS), {"organization": "team-a"}).content.decode()
    assert 'name="organization" value="team-a"' in page
    assert 'placeholder="exact name"' in page
    # A registry that is not a number is Django's "bad filter" redirect, not a 500.
    assert client.get(reverse(PERMISSIONS), {"registry": "x"}).status_code == 302


def test_the_search_finds_a_grantee_an_organizations_beginning_or_a_repository(
    staff_user: User, grants: Group
) -> None:
    client = client_for(staff_user)
    assert listed(client, q="bob") == sorted([BOB_EDITS, BOB_READS_B])
    assert listed(client, q="developers") == [DEVELOPERS_READ]
    assert listed(client, q="team-") == sorted(
        [ALICE_MANAGES, BOB_EDITS, DEVELOPERS_READ, BOB_READS_B]
    )
    assert listed(client, q="team-b") == [BOB_READS_B]
    # A repository: who reaches it, by its own grants and by its organization's.
    assert listed(client, q="team-a/app") == sorted([ALICE_MANAGES, BOB_EDITS, DEVELOPERS_READ])
    assert listed(client, q="team-a/web") == sorted([ALICE_MANAGES, BOB_EDITS])
    for nothing in ("bo", "eam", "nobody", "app"):
        assert listed(client, q=nothing) == [], nothing


def test_organizations_list_their_registry_creator_and_grants_with_a_link_to_them(
    auditor: User, grants: Group, registry: Registry
) -> None:
    client = client_for(auditor)
    assert listed(client, ORGANIZATIONS) == [
        ("team-a", "default", "alice", "3 grants"),
        ("team-b", "second", "system", "1 grant"),
    ]
    assert listed(client, ORGANIZATIONS, q="team-b") == [("team-b", "second", "system", "1 grant")]
    assert listed(client, ORGANIZATIONS, registry=str(registry.pk))[0][0] == "team-a"
    page = client.get(reverse(ORGANIZATIONS)).content.decode()
    link = f"{reverse(PERMISSIONS)}?organization=team-a&amp;registry={registry.pk}"
    assert f'href="{link}"' in page
    query = {"organization": "team-a", "registry": str(registry.pk)}
    assert len(listed(client, **query)) == 3
    team_a = Organization.objects.get(name="team-a")
    detail = client.get(reverse("admin:credentials_organization_change", args=[team_a.pk]))
    assert detail.status_code == 200
    assert f'href="{link}"' in detail.content.decode()
    assert str(team_a.public_id) in detail.content.decode()


def read_export(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


HEADER = [
    "Registry",
    "Organization",
    "Repository",
    "Grantee Type",
    "Grantee",
    "Level",
    "Level Code",
    "Actions",
    "Granted By",
    "Granted At",
    "Changed At",
]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_export_says_who_can_push_where_in_english_for_machines(
    auditor: User, grants: Group, registry: Registry, language: str
) -> None:
    client = client_for(auditor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    header, *rows = read_export(client.get(reverse(EXPORT)))
    assert header == HEADER
    bob = Permission.objects.get(user__username="bob", organization__name="team-a")
    times = [
        bob.granted_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        bob.changed_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    ]
    assert [
        registry.address,
        "team-a",
        "",
        "user",
        "bob",
        "Edit",
        "3",
        "pull,push",
        "alice",
        *times,
    ] in rows
    by_grantee = {(row[1], row[2], row[4]): row[5:9] for row in rows}
    assert by_grantee == {
        ("team-a", "", "alice"): ["Manage", "7", "pull,push,delete", "alice"],
        ("team-a", "", "bob"): ["Edit", "3", "pull,push", "alice"],
        ("team-a", "app", "developers"): ["Read", "1", "pull", "alice"],
        ("team-b", "", "bob"): ["Read", "1", "pull", ""],
    }
    assert {row[3] for row in rows if row[4] == "developers"} == {"group"}
    # The list's filters and search apply: who can push in team-a.
    pushers = read_export(client.get(reverse(EXPORT), {"organization": "team-a", "level": "3"}))
    assert [row[4] for row in pushers[1:]] == ["bob"]
    assert [row[4] for row in read_export(client.get(reverse(EXPORT), {"q": "team-b"}))[1:]] == [
        "bob"
    ]


def test_the_export_is_offered_on_the_list(auditor: User, grants: Group) -> None:
    page = client_for(auditor).get(reverse(PERMISSIONS), {"user": "bob"}).content.decode()
    assert f'href="{reverse(EXPORT)}?user=bob"' in page
    assert ">Export CSV<" in page


def many_grants(registry: Registry, count: int) -> None:
    """`count` grants more: users, a group and organizations of their own, granted by alice."""
    granter = User.objects.get(username="alice")
    organizations = Organization.objects.bulk_create(
        Organization(registry=registry, name=f"org{count}-{n}", created_by=granter)
        for n in range(count)
    )
    users = User.objects.bulk_create(User(username=f"user{count}-{n}") for n in range(count))
    group = Group.objects.create(name=f"group{count}")
    Permission.objects.bulk_create(
        Permission(
            organization=organization,
            level=EDIT,
            granted_by=granter,
            **({"user": user} if n % 2 else {"group": group}),
        )
        for n, (organization, user) in enumerate(zip(organizations, users, strict=True))
    )


@pytest.mark.parametrize("url_name", [PERMISSIONS, ORGANIZATIONS])
def test_a_page_of_50_rows_costs_the_queries_of_a_page_of_5(
    staff_user: User, owner: User, registry: Registry, url_name: str
) -> None:
    client = client_for(staff_user)
    many_grants(registry, 5)
    client.get(reverse(url_name))
    with CaptureQueriesContext(connection) as few:
        assert len(listed(client, url_name)) == 5
    many_grants(registry, 45)
    with CaptureQueriesContext(connection) as many:
        assert len(listed(client, url_name)) == 50
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
    # Counted at most to the cap, never the whole table.
    counts = [q["sql"] for q in many.captured_queries if q["sql"].startswith("SELECT COUNT(")]
    assert counts
    assert all("LIMIT 10001" in count for count in counts), counts


def test_the_export_costs_the_same_queries_for_many_rows(
    staff_user: User, owner: User, registry: Registry
) -> None:
    client = client_for(staff_user)
    many_grants(registry, 5)
    with CaptureQueriesContext(connection) as few:
        assert len(read_export(client.get(reverse(EXPORT)))) == 6
    many_grants(registry, 45)
    with CaptureQueriesContext(connection) as many:
        assert len(read_export(client.get(reverse(EXPORT)))) == 51
    assert len(many) == len(few)


@pytest.mark.postgresql(reason="PostgreSQL's query plans")
@pytest.mark.parametrize(
    ("query", "index"),
    [
        ({}, "permission_newest"),
        ({"level": "7"}, "permission_by_level"),
        ({"organization": "org3000-7"}, "permission_by_organization"),
    ],
)
def test_each_list_is_read_off_an_index_newest_first(
    staff_user: User, owner: User, registry: Registry, query: dict[str, str], index: str
) -> None:
    many_grants(registry, 3000)
    # A rare level (the organizations' managers), the oldest grants: walking the newest grants
    # would meet them last.
    rare = Permission.objects.order_by("pk")[:60]
    Permission.objects.filter(pk__in=list(rare.values_list("pk", flat=True))).update(level=MANAGE)
    request = RequestFactory().get(reverse(PERMISSIONS), query)
    request.user = staff_user
    changelist = admin.site._registry[Permission].get_changelist_instance(request)
    page = changelist.get_queryset(request)[:50]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE credentials_permission")
        cursor.execute("ANALYZE credentials_organization")
    plan = page.explain()
    assert index in plan, plan
    assert "Seq Scan on credentials_permission" not in plan, plan
