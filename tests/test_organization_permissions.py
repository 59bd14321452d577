"""An organization's page: its Users tab and its Repository Permissions tab, with Add
Permission, Modify and Remove for Manage holders only. Every refusal of the domain
(NotPermitted, LastManagerRefused, GranteeRefused, LevelRefused, NameRefused) is a message
in both languages in the dialog that asked, never a 500, and changes nothing."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from credentials.models import Actor, AuditEvent, Organization, Permission, Registry, User
from credentials.rules import EDIT, MANAGE, READ
from tests.helpers import client_for, make_user

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def team(owner: User, registry: Registry) -> Organization:
    """Organization team-a of the registry; the owner (alice) its creator, with Manage."""
    return Organization.objects.create_for(registry=registry, name="team-a", by=Actor(user=owner))


def url(view: str, organization: Organization, **query: str) -> str:
    path = reverse(view, args=[organization.registry.public_id, organization.public_id])
    return path + ("?" + urlencode(query) if query else "")


def said(response) -> str:
    return json.loads(response["HX-Trigger"])["consoleMessage"]["text"]


def in_language(client: Client, language: str) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def snapshot() -> tuple[list[tuple], int]:
    """Every grant and the number of audit events: what a refusal must leave as it was."""
    grants = list(
        Permission.objects.order_by("id").values_list(
            "organization_id", "user_id", "group_id", "repository", "level"
        )
    )
    return grants, AuditEvent.objects.count()


# --- What each user sees -------------------------------------------------------------------


def test_the_users_tab_lists_each_grant_with_its_grantee_type_and_level(
    owner_client: Client, owner: User, other_user: User, team: Organization
) -> None:
    devs = Group.objects.create(name="devs")
    team.grant(level=EDIT, by=Actor(user=owner), group=devs)
    team.grant(level=READ, by=Actor(user=owner), user=other_user)
    html = owner_client.get(url("organization_users", team)).content.decode()
    assert "<h1>team-a</h1>" in html
    rows = html[html.index("<tbody") : html.index("</tbody>")]
    assert rows.index(">alice<") < rows.index(">devs<") < rows.index(">bob<")  # by level
    assert ">Group<" in rows
    assert ">User<" in rows
    assert ">Manage<" in rows
    assert ">Edit<" in rows
    assert ">Read<" in rows
    assert html.count(">Modify</a>") == 3
    assert html.count(">Remove</a>") == 3
    assert ">Add Permission</a>" in html
    assert ">Delete Organization</a>" in html


def test_the_organizations_address_opens_its_users_tab(
    owner_client: Client, team: Organization
) -> None:
    response = owner_client.get(url("organization", team))
    assert response.status_code == 302
    assert response["Location"] == url("organization_users", team)


def test_a_read_or_edit_holder_sees_the_grants_but_no_control_that_changes_them(
    owner: User, other_user: User, team: Organization
) -> None:
    team.grant(level=EDIT, by=Actor(user=owner), user=other_user)
    client = client_for(other_user)
    for tab in ("organization_users", "organization_repositories"):
        html = client.get(url(tab, team)).content.decode()
        assert "Add Permission" not in html
        assert ">Modify</a>" not in html
        assert ">Remove</a>" not in html
        assert "Delete Organization" not in html
    assert ">alice<" in client.get(url("organization_users", team)).content.decode()


def test_a_user_without_any_grant_there_gets_a_404_for_the_page_and_every_dialog(
    other_user: User, team: Organization
) -> None:
    client = client_for(other_user)
    for name in (
        "organization_users",
        "organization_repositories",
        "add_permission",
        "change_permission",
        "remove_permission",
    ):
        assert client.get(url(name, team)).status_code == 404, name
    response = client.post(
        url("add_permission", team), {"kind": "user", "name": "bob", "level": "7"}
    )
    assert response.status_code == 404
    assert team.level_of(other_user) == 0


def test_a_tab_switch_with_htmx_answers_the_tabs_only(
    owner_client: Client, team: Organization
) -> None:
    fragment = owner_client.get(url("organization_repositories", team), headers=HTMX)
    html = fragment.content.decode()
    assert html.lstrip().startswith('<div id="organization-tabs">')
    assert "No permission is given on a single repository of this organization." in html


# --- Add Permission --------------------------------------------------------------------------


def test_add_permission_opens_its_dialog_with_read_chosen(
    owner_client: Client, team: Organization
) -> None:
    fragment = owner_client.get(url("add_permission", team), headers=HTMX).content.decode()
    assert fragment.lstrip().startswith('<dialog id="add-permission-dialog"')
    assert 'name="level" value="1" checked' in fragment
    assert 'name="repository"' not in fragment  # the Users tab: the whole organization
    page = owner_client.get(url("add_permission", team, tab="repositories")).content.decode()
    assert 'name="repository"' in page
    assert " open>" in page


def test_a_manage_holder_gives_a_user_a_permission_and_the_list_refreshes(
    owner_client: Client, other_user: User, team: Organization
) -> None:
    fields = {"kind": "user", "name": "bob", "level": str(EDIT)}
    response = owner_client.post(url("add_permission", team), fields, headers=HTMX)
    assert response.status_code == 200
    assert response.content == b""
    assert said(response) == "User “bob” now has the Edit permission on team-a."
    assert "permissionsChanged" in json.loads(response["HX-Trigger"])
    assert team.level_of(other_user) == EDIT
    event = AuditEvent.objects.filter(action=AuditEvent.Action.PERMISSION_GRANTED).order_by("id")
    event = event.last()
    assert (event.detail["user"], event.detail["new_level"]) == ("bob", EDIT)


def test_adding_again_changes_the_level_and_says_what_it_was(
    owner_client: Client, owner: User, other_user: User, team: Organization
) -> None:
    team.grant(level=READ, by=Actor(user=owner), user=other_user)
    fields = {"kind": "user", "name": "bob", "level": str(MANAGE)}
    response = owner_client.post(url("add_permission", team), fields, headers=HTMX)
    assert said(response) == "User “bob” now has the Manage permission on team-a (was Read)."
    assert team.permissions.filter(user=other_user).count() == 1


def test_a_group_is_given_a_permission_without_javascript_ending_on_the_tab(
    owner_client: Client, team: Organization
) -> None:
    Group.objects.create(name="devs")
    fields = {"kind": "group", "name": "devs", "level": str(READ)}
    response = owner_client.post(url("add_permission", team), fields, follow=True)
    assert response.redirect_chain == [(url("organization_users", team), 302)]
    html = response.content.decode()
    assert "Group “devs” now has the Read permission on team-a." in html
    assert ">devs<" in html
    assert team.permissions.filter(group__name="devs", level=READ).exists()


def test_a_permission_on_one_repository_is_added_on_the_repository_tab(
    owner_client: Client, other_user: User, team: Organization
) -> None:
    fields = {
        "kind": "user",
        "name": "bob",
        "repository": "tools/app",
        "level": "3",
        "tab": "repositories",
    }
    response = owner_client.post(url("add_permission", team), fields, headers=HTMX)
    assert said(response) == "User “bob” now has the Edit permission on team-a/tools/app."
    assert team.level_of(other_user, "tools/app") == EDIT
    assert team.level_of(other_user) == 0
    html = owner_client.get(url("organization_repositories", team)).content.decode()
    assert "<code>team-a/tools/app</code>" in html


@pytest.mark.parametrize(
    ("language", "fields", "field_message"),
    [
        ("en", {"kind": "user", "name": "nobody"}, "There is no active user “nobody”."),
        ("zh-hans", {"kind": "user", "name": "nobody"}, "不存在名为“nobody”的有效用户。"),
        ("en", {"kind": "group", "name": "ghosts"}, "There is no group “ghosts”."),
        ("zh-hans", {"kind": "group", "name": "ghosts"}, "不存在名为“ghosts”的用户组。"),
    ],
)
def test_an_unknown_user_or_group_is_refused_in_both_languages_and_nothing_changes(
    owner_client: Client, team: Organization, language: str, fields: dict, field_message: str
) -> None:
    before = snapshot()
    client = in_language(owner_client, language)
    for headers in (HTMX, {}):
        response = client.post(
            url("add_permission", team), fields | {"level": "3"}, headers=headers
        )
        assert response.status_code == 422
        html = response.content.decode()
        assert field_message in html
        assert 'id="grantee-name-error"' in html
        assert 'aria-invalid="true"' in html
    assert snapshot() == before


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "“5” is not a permission level: use 1 (Read), 3 (Edit) or 7 (Manage)."),
        ("zh-hans", "“5”不是有效的权限级别：请使用 1（只读）、3（编辑）或 7（管理）。"),
    ],
)
def test_a_level_other_than_read_edit_or_manage_is_refused_in_both_languages(
    owner_client: Client, other_user: User, team: Organization, language: str, message: str
) -> None:
    before = snapshot()
    client = in_language(owner_client, language)
    fields = {"kind": "user", "name": "bob", "level": "5"}
    response = client.post(url("add_permission", team), fields, headers=HTMX)
    assert response.status_code == 422
    assert message in response.content.decode()
    grant = owner_client.get(url("change_permission", team, kind="user", name="alice"))
    assert grant.status_code == 200
    modified = client.post(
        url("change_permission", team),
        {"kind": "user", "name": "alice", "level": "5"},
        headers=HTMX,
    )
    assert modified.status_code == 422
    assert message in modified.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "A repository name is made of parts separated by “/”"),
        ("zh-hans", "镜像名称由“/”分隔的若干部分组成"),
    ],
)
def test_a_bad_repository_name_is_refused_in_both_languages(
    owner_client: Client, other_user: User, team: Organization, language: str, message: str
) -> None:
    before = snapshot()
    client = in_language(owner_client, language)
    fields = {
        "kind": "user",
        "name": "bob",
        "level": "1",
        "repository": "App",
        "tab": "repositories",
    }
    for headers in (HTMX, {}):
        response = client.post(url("add_permission", team), fields, headers=headers)
        assert response.status_code == 422
        html = response.content.decode()
        assert message in html
        assert 'id="repository-error"' in html
    assert snapshot() == before


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "You need the Manage permission on organization “team-a” to do this."),
        ("zh-hans", "您需要组织“team-a”的管理权限才能执行此操作。"),
    ],
)
def test_a_read_or_edit_holder_cannot_grant_modify_or_remove_in_either_language(
    owner: User, other_user: User, team: Organization, language: str, message: str
) -> None:
    team.grant(level=EDIT, by=Actor(user=owner), user=other_user)
    carol = make_user("carol")
    client = in_language(client_for(other_user), language)
    before = snapshot()  # after the sign-in's own event
    asks = [
        client.get(url("add_permission", team), headers=HTMX),
        client.get(url("change_permission", team, kind="user", name="alice"), headers=HTMX),
        client.get(url("remove_permission", team, kind="user", name="alice"), headers=HTMX),
    ]
    acts = [
        client.post(url("add_permission", team), {"kind": "user", "name": "carol", "level": "7"}),
        client.post(
            url("add_permission", team), {"kind": "user", "name": "bob", "level": "7"}, headers=HTMX
        ),
        client.post(
            url("change_permission", team), {"kind": "user", "name": "alice", "level": "1"}
        ),
        client.post(
            url("remove_permission", team), {"kind": "user", "name": "alice"}, headers=HTMX
        ),
    ]
    for response in asks + acts:
        assert response.status_code == 403
        assert message in response.content.decode()
    assert snapshot() == before
    assert team.level_of(carol) == 0


def test_a_non_manager_learns_nothing_of_who_exists_from_add_permission(
    owner: User, other_user: User, team: Organization
) -> None:
    team.grant(level=READ, by=Actor(user=owner), user=other_user)
    response = client_for(other_user).post(
        url("add_permission", team), {"kind": "user", "name": "nobody", "level": "1"}, headers=HTMX
    )
    assert response.status_code == 403
    assert "nobody" not in response.content.decode().replace('value="nobody"', "")


# --- Modify and Remove ----------------------------------------------------------------------


def test_modify_opens_with_the_grants_level_chosen_and_changes_it(
    owner_client: Client, owner: User, other_user: User, team: Organization
) -> None:
    team.grant(level=READ, by=Actor(user=owner), user=other_user)
    fragment = owner_client.get(
        url("change_permission", team, kind="user", name="bob"), headers=HTMX
    )
    html = fragment.content.decode()
    assert "User <strong>bob</strong> on <code>team-a</code>" in html
    assert 'name="level" value="1" checked' in html
    fields = {"kind": "user", "name": "bob", "level": "3"}
    response = owner_client.post(url("change_permission", team), fields, headers=HTMX)
    assert said(response) == "User “bob” now has the Edit permission on team-a (was Read)."
    assert team.level_of(other_user) == EDIT
    event = AuditEvent.objects.filter(action=AuditEvent.Action.PERMISSION_CHANGED).get()
    assert (event.detail["old_level"], event.detail["new_level"]) == (READ, EDIT)


def test_remove_asks_first_then_removes_with_and_without_javascript(
    owner_client: Client, owner: User, other_user: User, team: Organization
) -> None:
    devs = Group.objects.create(name="devs")
    team.grant(level=READ, by=Actor(user=owner), user=other_user)
    team.grant(level=EDIT, by=Actor(user=owner), group=devs, repository="app")
    asked = owner_client.get(url("remove_permission", team, kind="user", name="bob"), headers=HTMX)
    assert "Remove the Read permission of user <strong>bob</strong> on <code>team-a</code>?" in (
        asked.content.decode()
    )
    assert team.level_of(other_user) == READ
    response = owner_client.post(
        url("remove_permission", team), {"kind": "user", "name": "bob"}, headers=HTMX
    )
    assert said(response) == "User “bob” no longer has the Read permission on team-a."
    fields = {"kind": "group", "name": "devs", "repository": "app", "tab": "repositories"}
    response = owner_client.post(url("remove_permission", team), fields, follow=True)
    assert response.redirect_chain == [(url("organization_repositories", team), 302)]
    assert (
        "Group “devs” no longer has the Edit permission on team-a/app." in response.content.decode()
    )
    assert list(team.permissions.values_list("user__username", flat=True)) == ["alice"]


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "User “alice” is the last holder of the Manage permission on organization “team-a”"),
        ("zh-hans", "是组织“team-a”中最后一个拥有管理权限的用户或用户组"),
    ],
)
def test_the_last_manage_holder_cannot_be_removed_or_lowered_in_either_language(
    owner_client: Client, team: Organization, language: str, message: str
) -> None:
    before = snapshot()
    client = in_language(owner_client, language)
    removed = client.post(
        url("remove_permission", team), {"kind": "user", "name": "alice"}, headers=HTMX
    )
    lowered = client.post(
        url("change_permission", team), {"kind": "user", "name": "alice", "level": "3"}
    )
    for response in (removed, lowered):
        assert response.status_code == 409
        assert message.replace("User “alice”", "alice") in response.content.decode()
    assert 'name="level" value="3" checked' in lowered.content.decode()  # the choice stays open
    assert snapshot() == before


def test_a_grant_removed_meanwhile_is_said_to_be_gone(
    owner_client: Client, owner: User, other_user: User, team: Organization
) -> None:
    team.grant(level=READ, by=Actor(user=owner), user=other_user)
    team.revoke(by=Actor(user=owner), user=other_user)
    before = snapshot()
    for name in ("change_permission", "remove_permission"):
        response = owner_client.post(
            url(name, team), {"kind": "user", "name": "bob", "level": "3"}, headers=HTMX
        )
        assert response.status_code == 409
        assert "This permission no longer exists" in response.content.decode()
    assert snapshot() == before


def test_a_repository_manager_changes_that_repositorys_grants_only(
    owner: User, other_user: User, team: Organization
) -> None:
    team.grant(level=MANAGE, by=Actor(user=owner), user=other_user, repository="app")
    carol = make_user("carol")
    team.grant(level=READ, by=Actor(user=owner), user=carol, repository="app")
    team.grant(level=READ, by=Actor(user=owner), user=carol, repository="other")
    client = client_for(other_user)
    html = client.get(url("organization_repositories", team)).content.decode()
    assert ">Add Permission</a>" in html
    assert html.count(">Modify</a>") == 2  # bob's and carol's on app, not carol's on other
    fields = {
        "kind": "user",
        "name": "carol",
        "level": "3",
        "repository": "app",
        "tab": "repositories",
    }
    assert client.post(url("change_permission", team), fields, headers=HTMX).status_code == 200
    assert team.level_of(carol, "app") == EDIT
    fields["repository"] = "other"
    assert client.post(url("change_permission", team), fields, headers=HTMX).status_code == 403
    assert client.post(url("add_permission", team), fields | {"tab": "users"}).status_code == 403
    assert team.level_of(carol, "other") == READ
    assert team.level_of(carol) == 0


@pytest.mark.parametrize("name", ["add_permission", "change_permission", "remove_permission"])
def test_the_dialogs_answer_get_and_post_only(
    owner_client: Client, team: Organization, name: str
) -> None:
    assert owner_client.put(url(name, team)).status_code == 405
    assert owner_client.delete(url(name, team)).status_code == 405
