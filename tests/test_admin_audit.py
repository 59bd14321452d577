"""The admin panel: auditors see everything and change nothing; the trail is append-only."""

from __future__ import annotations

import csv
import html
import io
import re
import tracemalloc

import pytest
from django.contrib import admin
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.auth.models import Group
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.http import urlencode

from credentials.models import (
    Actor,
    AdministratorDecisionBinds,
    AuditEvent,
    ConsoleError,
    LongTermCredential,
    Organization,
    Registry,
    User,
)
from credentials.rules import EDIT, READ
from credentials.timestamps import shown
from tests.helpers import PASSWORD, client_for, mint_temporary, new_credential, op_url, permit

CREDENTIALS = "admin:credentials_longtermcredential_changelist"
EVENTS = "admin:credentials_auditevent_changelist"
LTC_OPTS = LongTermCredential._meta


def test_an_auditor_sees_credentials_and_events(
    auditor: User, owner: User, registry: Registry
) -> None:
    credential, _ = new_credential(owner, registry, "ci-bot")
    client = client_for(auditor)
    page = client.get(reverse(CREDENTIALS)).content.decode()
    assert "ci-bot" in page
    assert credential.username in page
    page = client.get(reverse(EVENTS)).content.decode()
    assert "Long-term credential created" in page
    detail = reverse("admin:credentials_longtermcredential_change", args=[credential.pk])
    assert client.get(detail).status_code == 200
    event = AuditEvent.objects.get(action="long_term.created")
    assert (
        client.get(reverse("admin:credentials_auditevent_change", args=[event.pk])).status_code
        == 200
    )


def test_an_auditor_cannot_change_anything(auditor: User, owner: User, registry: Registry) -> None:
    credential, _ = new_credential(owner, registry, "ci-bot")
    client = client_for(auditor)
    change = reverse("admin:credentials_longtermcredential_change", args=[credential.pk])
    assert client.post(change, {"name": "renamed"}).status_code == 403
    delete = reverse("admin:credentials_longtermcredential_delete", args=[credential.pk])
    assert client.get(delete).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403
    response = client.post(
        reverse(CREDENTIALS),
        {
            "action": "disable_selected",
            "_selected_action": [credential.pk],
            "apply": "yes",
            "reason": "x",
        },
    )
    # The bulk actions need the change permission: an auditor is shown the list again,
    # which offers them no action at all.
    assert response.status_code == 200
    assert 'value="disable_selected"' not in response.content.decode()
    event = AuditEvent.objects.get(action="long_term.created")
    for name in ("change", "delete"):
        url = reverse(f"admin:credentials_auditevent_{name}", args=[event.pk])
        assert client.post(url, {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:credentials_registry_add")).status_code == 403
    assert client.get(reverse("admin:credentials_user_changelist")).status_code == 403
    credential.refresh_from_db()
    assert credential.is_enabled
    assert credential.name == "ci-bot"
    assert (
        not AuditEvent.objects.exclude(action="console.sign_in")
        .exclude(action="long_term.created")
        .exists()
    )


def test_nobody_adds_changes_or_deletes_events_in_the_admin(
    staff_user: User, owner: User, registry: Registry
) -> None:
    new_credential(owner, registry, "ci-bot")
    event = AuditEvent.objects.get(action="long_term.created")
    client = client_for(staff_user)
    assert client.get(reverse("admin:credentials_auditevent_add")).status_code == 403
    change = reverse("admin:credentials_auditevent_change", args=[event.pk])
    assert client.post(change, {"action": "long_term.deleted"}).status_code == 403
    delete = reverse("admin:credentials_auditevent_delete", args=[event.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:credentials_longtermcredential_add")).status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).action == "long_term.created"


def test_no_secret_or_digest_appears_in_any_admin_page(
    staff_user: User, owner: User, registry: Registry
) -> None:
    credential, password = new_credential(owner, registry, "ci-bot")
    temporary, temp_password = mint_temporary(owner, registry)
    credential.disable(by=Actor(user=staff_user), reason="leak drill")
    client = client_for(staff_user)
    urls = [
        reverse("admin:index"),
        reverse(CREDENTIALS),
        reverse("admin:credentials_longtermcredential_change", args=[credential.pk]),
        reverse("admin:credentials_longtermcredential_history", args=[credential.pk]),
        reverse("admin:credentials_longtermcredential_export"),
        reverse(EVENTS),
        reverse("admin:credentials_auditevent_export"),
        reverse("admin:credentials_temporarycredential_changelist"),
        reverse("admin:credentials_temporarycredential_change", args=[temporary.pk]),
        reverse("admin:credentials_user_change", args=[owner.pk]),
    ] + [
        reverse("admin:credentials_auditevent_change", args=[e.pk])
        for e in AuditEvent.objects.all()
    ]
    secrets = [password, credential.password_digest, temp_password, temporary.password_digest]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = body.decode()
        for secret in secrets:
            assert secret not in text, url
        assert "password_digest" not in text, url


def bulk(client: Client, action: str, credentials: list[LongTermCredential], reason: str | None):
    data = {"action": action, "_selected_action": [c.pk for c in credentials]}
    if reason is not None:
        data |= {"apply": "yes", "reason": reason}
    return client.post(reverse(CREDENTIALS), data)


def test_bulk_disable_asks_for_a_reason_and_records_one_event_each(
    staff_user: User, owner: User, other_user: User, registry: Registry
) -> None:
    first, _ = new_credential(owner, registry, "one")
    second, _ = new_credential(other_user, registry, "two")
    client = client_for(staff_user)

    asked = bulk(client, "disable_selected", [first, second], None)
    assert asked.status_code == 200
    assert "Reason" in asked.content.decode()
    assert LongTermCredential.objects.filter(is_enabled=False).count() == 0

    missing = bulk(client, "disable_selected", [first, second], "")
    assert "Give the reason for this change." in missing.content.decode()
    assert LongTermCredential.objects.filter(is_enabled=False).count() == 0

    done = bulk(client, "disable_selected", [first, second], "Key leaked in a public repo")
    assert done.status_code == 302
    assert LongTermCredential.objects.filter(is_enabled=False).count() == 2
    events = AuditEvent.objects.filter(action="long_term.disabled")
    assert events.count() == 2
    assert {e.detail["reason"] for e in events} == {"Key leaked in a public repo"}
    assert {e.actor_username for e in events} == {"sam"}
    assert {e.credential_name for e in events} == {"one", "two"}

    bulk(client, "enable_selected", [first, second], "False alarm")
    assert (
        AuditEvent.objects.filter(action="long_term.enabled", detail__reason="False alarm").count()
        == 2
    )


def test_an_administrators_disabling_binds_its_owner_until_an_administrator_enables_it(
    staff_user: User, owner: User, owner_client: Client, registry: Registry
) -> None:
    credential, _ = new_credential(owner, registry, "ci-bot")
    admin_client = client_for(staff_user)
    bulk(admin_client, "disable_selected", [credential], "Key leaked")
    credential.refresh_from_db()
    assert (credential.disabled_by_administrator, credential.status_reason) == (True, "Key leaked")
    assert AuditEvent.objects.get(action="long_term.disabled").detail == {
        "reason": "Key leaked",
        "by_administrator": True,
    }

    refused = owner_client.post(op_url("enable", credential), headers={"HX-Request": "true"})
    assert refused.status_code == 409
    told = (
        f"An administrator (sam) disabled this credential on {shown(credential.status_changed_at)}"
    )
    assert told in refused.content.decode()
    assert "giving the reason “Key leaked”. Only an administrator can enable it" in (
        refused.content.decode()
    )
    with translation.override("zh-hans"), pytest.raises(ConsoleError) as chinese:
        credential.enable(by=Actor(user=owner))
    assert "停用此凭证，原因：“Key leaked”。只有管理员可以重新启用。" in str(chinese.value)
    credential.refresh_from_db()
    assert not credential.is_enabled
    assert not AuditEvent.objects.filter(action="long_term.enabled").exists()

    bulk(admin_client, "enable_selected", [credential], "Rotated")
    credential.refresh_from_db()
    assert credential.is_enabled
    assert not credential.disabled_by_administrator
    # The owner's own decisions are theirs again.
    assert credential.disable(by=Actor(user=owner))
    assert credential.enable(by=Actor(user=owner))


def test_the_credential_page_shows_an_administrators_decision_who_when_and_why(
    staff_user: User, auditor: User, owner: User, registry: Registry
) -> None:
    credential, _ = new_credential(owner, registry, "ci-bot")
    bulk(client_for(staff_user), "disable_selected", [credential], "Key leaked")
    credential.refresh_from_db()
    when = shown(credential.status_changed_at)
    page = client_for(auditor)
    detail = page.get(reverse("admin:credentials_longtermcredential_change", args=[credential.pk]))
    assert (
        f"An administrator (sam) disabled this credential on {when}, giving the reason "
        "“Key leaked”. Only an administrator can enable it again."
    ) in detail.content.decode()
    listed = page.get(reverse(CREDENTIALS)).content.decode()
    assert f"{when} by sam (administrator)" in listed
    chinese = client_for(auditor)
    chinese.cookies["django_language"] = "zh-hans"
    listed = chinese.get(reverse(CREDENTIALS)).content.decode()
    assert f"{when}，由 sam（管理员）" in listed


def test_an_owners_own_disabling_shows_its_reason_and_no_administrators_decision(
    staff_user: User, owner: User, registry: Registry
) -> None:
    credential, _ = new_credential(owner, registry, "ci-bot")
    credential.disable(by=Actor(user=owner), reason="rotating")
    client = client_for(staff_user)
    url = reverse("admin:credentials_longtermcredential_change", args=[credential.pk])
    detail = client.get(url).content.decode()
    assert '<div class="readonly">rotating</div>' in detail
    assert "Only an administrator" not in detail
    assert "(administrator)" not in client.get(reverse(CREDENTIALS)).content.decode()


def test_the_disable_confirmation_says_the_owners_cannot_undo_it(
    staff_user: User, owner: User, registry: Registry
) -> None:
    credential, _ = new_credential(owner, registry, "ci-bot")
    asked = bulk(client_for(staff_user), "disable_selected", [credential], None)
    assert "cannot enable them again: only an administrator can." in asked.content.decode()


def test_the_credential_page_shows_its_narrowing(
    auditor: User, owner: User, registry: Registry
) -> None:
    team_a = permit(registry, "team-a", EDIT, user=owner)
    permit(registry, "team-b", EDIT, user=owner)
    narrowed, _ = new_credential(owner, registry, "ci-pull", access="pull", organizations=[team_a])
    wide, _ = new_credential(owner, registry, "ci-all")
    client = client_for(auditor)
    for credential, access, reach in (
        (narrowed, "Pull only", "team-a"),
        (wide, "Same as my permissions", "All"),
    ):
        url = reverse("admin:credentials_longtermcredential_change", args=[credential.pk])
        page = client.get(url).content.decode()
        assert f'<div class="readonly">{access}</div>' in page
        assert f'<div class="readonly">{reach}</div>' in page
    team_a.delete_by(by=Actor(user=None, username="operator", channel="system"))
    url = reverse("admin:credentials_longtermcredential_change", args=[narrowed.pk])
    assert "None (each one was deleted)" in client.get(url).content.decode()


def test_an_administrator_disabling_a_credential_its_owner_disabled_makes_it_binding(
    staff_user: User, owner: User, registry: Registry
) -> None:
    credential, _ = new_credential(owner, registry, "ci-bot")
    credential.disable(by=Actor(user=owner))
    bulk(client_for(staff_user), "disable_selected", [credential], "Under review")
    credential.refresh_from_db()
    assert credential.disabled_by_administrator
    assert credential.status_changed_by == staff_user
    with pytest.raises(AdministratorDecisionBinds):
        credential.enable(by=Actor(user=owner))


def test_deleting_in_the_admin_is_audited(
    staff_user: User, owner: User, registry: Registry
) -> None:
    credential, _ = new_credential(owner, registry, "ci-bot")
    url = reverse("admin:credentials_longtermcredential_delete", args=[credential.pk])
    assert client_for(staff_user).post(url, {"post": "yes"}).status_code == 302
    event = AuditEvent.objects.get(action="long_term.deleted")
    assert event.actor_username == "sam"
    assert event.detail["reason"] == "deleted in the admin panel"


@pytest.mark.postgresql(reason="the append-only trigger")
def test_update_and_delete_on_the_audit_table_fail_in_postgresql(
    owner: User, registry: Registry
) -> None:
    new_credential(owner, registry, "ci-bot")
    attempts = [
        lambda: AuditEvent.objects.update(action="long_term.deleted"),
        lambda: AuditEvent.objects.all().delete(),
        lambda: AuditEvent.objects.get().save(),
        lambda: connection.cursor().execute(
            "UPDATE credentials_auditevent SET actor_username = 'x'"
        ),
        lambda: connection.cursor().execute("DELETE FROM credentials_auditevent"),
    ]
    for attempt in attempts:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt()
    event = AuditEvent.objects.get()
    assert event.action == "long_term.created"
    assert event.actor_username == "alice"


def test_deleting_a_user_leaves_their_events_readable(
    staff_user: User, owner: User, registry: Registry
) -> None:
    new_credential(owner, registry, "ci-bot")
    owner.delete()
    assert LongTermCredential.objects.count() == 0
    event = AuditEvent.objects.get(action="long_term.created")
    assert event.actor_username == "alice"
    assert event.credential_name == "ci-bot"
    page = client_for(staff_user).get(reverse(EVENTS)).content.decode()
    assert "alice" in page
    assert "ci-bot" in page


def test_events_link_to_their_credential_while_it_exists(
    staff_user: User, owner: User, registry: Registry
) -> None:
    credential, _ = new_credential(owner, registry, "ci-bot")
    client = client_for(staff_user)
    change = reverse("admin:credentials_longtermcredential_change", args=[credential.pk])
    page = client.get(reverse(EVENTS)).content.decode()
    assert f'href="{change}"' in page
    history = f"{reverse(EVENTS)}?credential_public_id={credential.public_id}"
    assert history.replace("?", "?") in client.get(change).content.decode().replace("&amp;", "&")
    assert "ci-bot" in client.get(history).content.decode()
    credential.delete_by(by=Actor(user=owner))
    page = client.get(reverse(EVENTS)).content.decode()
    assert f'href="{change}"' not in page
    assert "ci-bot" in page


def test_console_sign_ins_and_failures_are_audited(owner: User, db: None) -> None:
    client = Client()
    client.post(
        "/accounts/login/", {"username": "alice", "password": "wrong"}, HTTP_USER_AGENT="firefox"
    )
    client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    failed = AuditEvent.objects.get(action="console.sign_in_failed")
    assert failed.actor_username == "alice"
    assert failed.user_agent == "firefox"
    assert failed.ip_address == "127.0.0.1"
    assert AuditEvent.objects.get(action="console.sign_in").actor == owner
    assert "wrong" not in str(list(AuditEvent.objects.values()))


def read_export(response) -> list[list[str]]:
    assert response.streaming
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_event_export_streams_the_filtered_rows(
    staff_user: User, owner: User, registry: Registry
) -> None:
    credential, _ = new_credential(owner, registry, "ci-bot")
    credential.disable(by=Actor(user=owner), reason="rotating")
    new_credential(owner, registry, "other")
    response = client_for(staff_user).get(
        reverse("admin:credentials_auditevent_export"), {"action__exact": "long_term.disabled"}
    )
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    header, *rows = read_export(response)
    assert header[:3] == ["Time", "Action", "Actor"]
    assert len(rows) == 1
    assert rows[0][1] == "long_term.disabled"
    assert rows[0][6] == "ci-bot"
    assert rows[0][-1] == "reason: rotating"


def test_the_credential_export_streams_the_searched_rows(
    staff_user: User, owner: User, registry: Registry
) -> None:
    new_credential(owner, registry, "ci-bot")
    new_credential(owner, registry, "other")
    response = client_for(staff_user).get(
        reverse("admin:credentials_longtermcredential_export"), {"q": "ci-bot"}
    )
    header, *rows = read_export(response)
    assert header[0] == "Credential Name"
    assert [row[0] for row in rows] == ["ci-bot"]


def _peak_while_exporting(client: Client) -> tuple[int, int]:
    tracemalloc.start()
    response = client.get(reverse("admin:credentials_auditevent_export"))
    rows = sum(chunk.count(b"\n") for chunk in response.streaming_content)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return rows, peak


def _add_events(count: int) -> None:
    AuditEvent.objects.bulk_create(
        AuditEvent(action="console.sign_in", actor_username=f"user{n}", detail={"path": "/"})
        for n in range(count)
    )


def test_the_export_memory_stays_flat_as_rows_grow(staff_user: User) -> None:
    client = client_for(staff_user)
    _add_events(3_000)
    small_rows, small_peak = _peak_while_exporting(client)
    _add_events(27_000)
    large_rows, large_peak = _peak_while_exporting(client)
    assert large_rows > 9 * small_rows
    # Ten times the rows, nowhere near ten times the memory: the export does not load them.
    assert large_peak < 2 * small_peak, (small_peak, large_peak)


def test_the_event_changelist_runs_a_constant_number_of_queries(
    staff_user: User, owner: User, registry: Registry
) -> None:
    client = client_for(staff_user)
    for number in range(3):
        new_credential(owner, registry, f"c{number}")
    client.get(reverse(EVENTS))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse(EVENTS))
    for number in range(3, 40):
        new_credential(owner, registry, f"c{number}")
    with CaptureQueriesContext(connection) as many:
        client.get(reverse(EVENTS))
    assert len(many) == len(few)
    assert not any(
        "COUNT(*)" in q["sql"] and "LIMIT" not in q["sql"] for q in many.captured_queries
    )


def searched_rows(client: Client, term: str) -> list[str]:
    """The rows of the audit changelist for a search, as HTML snippets."""
    page = client.get(reverse(EVENTS), {"q": term}).content.decode()
    if '<table id="result_list">' not in page:
        return []
    body = page.split('<table id="result_list">', 1)[1].split("</tbody>", 1)[0]
    return body.split("<tr")[2:]  # skip the header row


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            [
                "organization team-a",
                "team-a (whole organization), user alice, None → Manage (7)",
                "team-a/app, group developers, None → Read (1)",
                "team-a/app, group developers, Read (1) → Edit (3)",
                "team-a/app, group developers, Edit (3) → None",
                "team-a (whole organization), user alice, Manage (7) → None, "
                "reason: organization deleted",
                "organization team-a, 1 grant removed",
            ],
        ),
        (
            "zh-hans",
            [
                "组织 team-a",
                "team-a（整个组织）, 用户 alice, 无 → 管理 (7)",
                "team-a/app, 用户组 developers, 无 → 只读 (1)",
                "team-a/app, 用户组 developers, 只读 (1) → 编辑 (3)",
                "team-a/app, 用户组 developers, 编辑 (3) → 无",
                "team-a（整个组织）, 用户 alice, 管理 (7) → 无, reason: organization deleted",
                "组织 team-a, 移除了 1 项授权",
            ],
        ),
    ],
)
def test_the_trail_reads_organization_and_permission_events(
    auditor: User, owner: User, registry: Registry, language: str, expected: list[str]
) -> None:
    by = Actor(user=owner)
    team_a = Organization.objects.create_for(registry=registry, name="team-a", by=by)
    developers = Group.objects.create(name="developers")
    for level in (READ, EDIT):
        team_a.grant(level=level, by=by, group=developers, repository="app")
    team_a.revoke(by=by, group=developers, repository="app")
    team_a.delete_by(by=by)
    client = client_for(auditor)
    client.cookies["django_language"] = language
    page = client.get(reverse(EVENTS), {"actor": "alice"}).content.decode()
    shown = re.findall(r'<td class="field-summary">([^<]*)</td>', page)
    assert sorted(html.unescape(cell) for cell in shown) == sorted(expected)
    # The export keeps the record itself, for machines.
    export = reverse("admin:credentials_auditevent_export")
    details = [row[-1] for row in read_export(client.get(export, {"actor": "alice"}))]
    granted = {
        "organization: team-a",
        f"organization_public_id: {team_a.public_id}",
        "repository: app",
        "group: developers",
        "old_level: 0",
        "new_level: 1",
    }
    assert granted in [set(detail.split(", ")) for detail in details], details


@pytest.mark.parametrize("term", ["ci-bot", "alice", "127.0.0.1"])
def test_the_event_search_matches_names_actors_and_ips(
    staff_user: User, owner: User, registry: Registry, term: str
) -> None:
    console = client_for(owner)
    for name in ("ci-bot", "other"):
        console.post(reverse("create_long_term", args=[registry.public_id]), {"name": name})
    admin = client_for(staff_user)
    rows = searched_rows(admin, term)
    assert any(">ci-bot<" in row for row in rows)
    if term == "ci-bot":
        assert not any(">other<" in row for row in rows)
    assert searched_rows(admin, "nobody") == []


def test_the_credential_filters_work(
    staff_user: User, owner: User, federated_user: User, registry: Registry
) -> None:
    used, _ = new_credential(owner, registry, "used")
    new_credential(owner, registry, "unused")
    LongTermCredential.objects.filter(pk=used.pk).update(last_used_at="2026-01-01T00:00:00Z")
    client = client_for(staff_user)
    never = client.get(reverse(CREDENTIALS), {"used": "never"}).content.decode()
    assert ">unused<" in never
    assert ">used<" not in never
    disabled = client.get(reverse(CREDENTIALS), {"is_enabled__exact": "0"}).content.decode()
    assert ">unused<" not in disabled
    federated = client.get(
        reverse(CREDENTIALS), {"owner__is_federated__exact": "1"}
    ).content.decode()
    assert "0 long-term credentials" in federated


def test_the_owner_filter_takes_a_typed_username(
    staff_user: User, owner: User, other_user: User, registry: Registry
) -> None:
    new_credential(owner, registry, "alices")
    new_credential(other_user, registry, "bobs")
    page = client_for(staff_user).get(reverse(CREDENTIALS), {"owner": "bob"}).content.decode()
    assert ">bobs<" in page
    assert ">alices<" not in page
    assert 'name="owner" value="bob"' in page


def test_the_date_hierarchy_reads_years_and_months_off_the_index(
    staff_user: User, owner: User, registry: Registry
) -> None:
    first, _ = new_credential(owner, registry, "old")
    new_credential(owner, registry, "new")
    LongTermCredential.objects.filter(pk=first.pk).update(created_at="2024-03-05T10:00:00Z")
    client = client_for(staff_user)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse(CREDENTIALS)).content.decode()
    assert not [q for q in queries.captured_queries if "DISTINCT" in q["sql"]]
    assert "created_at__year=2024" in page
    assert "created_at__year=2026" in page
    months = client.get(reverse(CREDENTIALS), {"created_at__year": "2024"}).content.decode()
    assert "created_at__month=3" in months
    assert ">old<" in months
    assert ">new<" not in months


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_row_checkbox_is_djangos_markup(owner: User, registry: Registry, language: str) -> None:
    credential, _ = new_credential(owner, registry, "ci-bot")
    # A name the rule refuses now, kept from an older console (or written to the database by
    # hand): the admin still escapes it.
    LongTermCredential.objects.filter(pk=credential.pk).update(name="ci-<bot>")
    credential.refresh_from_db()
    model_admin = admin.site._registry[LongTermCredential]
    with translation.override(language):
        ours = model_admin.action_checkbox(credential)
        djangos = admin.ModelAdmin.action_checkbox(model_admin, credential)
    assert ours == djangos
    assert "ci-&lt;bot&gt;" in ours


def test_each_row_links_to_its_own_change_page(
    staff_user: User, owner: User, registry: Registry
) -> None:
    credentials = [new_credential(owner, registry, f"ci-{n}")[0] for n in range(3)]
    credentials[0].disable(by=Actor(user=owner))
    client = client_for(staff_user)
    for query in ("", "is_enabled__exact=1", "is_enabled__exact=1&o=1"):
        page = client.get(f"{reverse(CREDENTIALS)}?{query}").content.decode()
        for credential in credentials[1:]:
            link = reverse("admin:credentials_longtermcredential_change", args=[credential.pk])
            # As Django builds it, the list's filters carried to the change page and back.
            preserved = urlencode({"_changelist_filters": query}) if query else ""
            link = add_preserved_filters({"preserved_filters": preserved, "opts": LTC_OPTS}, link)
            assert f'<a href="{escape(link)}">{credential.name}</a>' in page, query
        assert (f">{credentials[0].name}</a>" in page) == (query == "")  # disabled
    page = client.get(reverse(EVENTS)).content.decode()
    for event in AuditEvent.objects.all():
        link = reverse("admin:credentials_auditevent_change", args=[event.pk])
        shown = event.created_at.strftime("%Y-%m-%d %H:%M UTC")
        assert f'<th class="field-created_at"><a href="{link}">{shown}</a></th>' in page
