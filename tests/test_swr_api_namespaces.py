"""Huawei's organization (namespace) operations and their permissions, over HTTP with an IAM
token: each operation as SWR's reference defines it, its audit events, and every refusal
Huawei's JSON error that changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from credentials.models import (
    Actor,
    AuditEvent,
    Organization,
    Permission,
    Region,
    Registry,
    User,
)
from credentials.rules import EDIT, MANAGE, READ
from tests.helpers import PASSWORD, iam_body, make_user, race

NAMESPACES = "/v2/manage/namespaces"


def token_for(client: Client, username: str, project: str = "cn-north-4") -> dict[str, str]:
    """The user's X-Auth-Token header, and the IAM API's id for them as its body gives it."""
    body = iam_body(username, PASSWORD, project=project)
    response = client.post("/v3/auth/tokens", body, content_type="application/json")
    assert response.status_code == 201
    return {"X-Auth-Token": response["X-Subject-Token"]}


def iam_user_id(client: Client, username: str) -> str:
    """`token.user.id` of the user's IAM token: the `user_id` Huawei's bodies name."""
    body = iam_body(username, PASSWORD)
    response = client.post("/v3/auth/tokens", body, content_type="application/json")
    return response.json()["token"]["user"]["id"]


def call(client: Client, method: str, path: str, headers: dict[str, str], body: Any = None):
    data = b"" if body is None else json.dumps(body).encode()
    return client.generic(method, path, data=data, content_type="application/json", headers=headers)


def assert_error(response, status: int, code: str) -> str:
    assert response.status_code == status, response.content
    assert response.json()["error_code"] == f"SVCSTG.SWR.{code}"
    return response.json()["error_msg"]


def state() -> tuple[list, list, int]:
    """What a refused request must leave as it was: organizations, grants, audit events."""
    organizations = sorted(Organization.objects.values_list("registry_id", "name"))
    grants = sorted(
        Permission.objects.values_list("organization__name", "repository", "user_id", "level")
    )
    return organizations, grants, AuditEvent.objects.count()


def api_events() -> list[tuple[str, dict]]:
    """The organizations' and permissions' events the API wrote, oldest first."""
    kinds = [a for a in AuditEvent.Action.values if a.startswith(("organization.", "permission."))]
    found = AuditEvent.objects.filter(channel="api", action__in=kinds).order_by("id")
    return [(event.action, event.detail) for event in found]


@pytest.fixture
def carol(db: None) -> User:
    return make_user("carol")


@pytest.fixture
def alice(client: Client, owner: User) -> dict[str, str]:
    return token_for(client, "alice")


@pytest.fixture
def bob(client: Client, other_user: User) -> dict[str, str]:
    return token_for(client, "bob")


@pytest.fixture
def team_a(owner: User, registry: Registry) -> Organization:
    """Organization team-a of the registry, created by alice (Manage)."""
    return Organization.objects.create_for(registry=registry, name="team-a", by=Actor(owner))


def grant(organization: Organization, user: User, level: int, repository: str = "") -> None:
    organization.grant(
        level=level, by=Actor(None, channel="system"), user=user, repository=repository
    )


def level_of(user: User, organization: Organization, repository: str = "") -> int | None:
    row = organization.permissions.filter(user=user, repository=repository).first()
    return row.level if row else None


# --- Organizations ----------------------------------------------------------------------------


def test_a_user_creates_an_organization_and_holds_manage_on_it(
    client: Client, alice: dict[str, str], owner: User, registry: Registry
) -> None:
    response = call(client, "POST", NAMESPACES, alice, {"namespace": "team-a"})
    assert response.status_code == 201
    organization = Organization.objects.get(name="team-a")
    assert (organization.registry, organization.created_by) == (registry, owner)
    assert level_of(owner, organization) == MANAGE
    events = api_events()
    assert [action for action, _ in events] == ["organization.created", "permission.granted"]
    assert (events[1][1]["user"], events[1][1]["new_level"]) == ("alice", MANAGE)
    assert AuditEvent.objects.filter(action="permission.granted").get().actor == owner


@pytest.mark.parametrize("name", ["Team-a", "a..b", "1team", "a___b", "team-", "a" * 65, ""])
def test_a_name_that_breaks_swrs_rule_is_refused_and_creates_nothing(
    client: Client, alice: dict[str, str], registry: Registry, name: str
) -> None:
    before = state()
    response = call(client, "POST", NAMESPACES, alice, {"namespace": name})
    assert assert_error(response, 400, "4001028")
    assert state() == before


@pytest.mark.parametrize("body", [{}, [], {"namespace": 1}, {"name": "team-a"}, "team-a"])
def test_a_create_body_without_a_namespace_is_a_400(
    client: Client, alice: dict[str, str], registry: Registry, body: Any
) -> None:
    before = state()
    assert_error(call(client, "POST", NAMESPACES, alice, body), 400, "4001036")
    assert state() == before


def test_a_taken_name_is_a_409(client: Client, alice: dict[str, str], team_a: Organization) -> None:
    before = state()
    response = call(client, "POST", NAMESPACES, alice, {"namespace": "team-a"})
    assert "team-a" in assert_error(response, 409, "4090060")
    assert state() == before


def test_a_deleted_organizations_name_is_created_again_by_an_administrator_only(
    client: Client, alice: dict[str, str], bob: dict[str, str], team_a: Organization, staff_user
) -> None:
    assert call(client, "DELETE", f"{NAMESPACES}/team-a", alice).status_code == 204
    before = state()
    for caller in (bob, alice):  # its images may still be in the registry
        response = call(client, "POST", NAMESPACES, caller, {"namespace": "team-a"})
        assert "only a registry administrator" in assert_error(response, 403, "4039002")
    assert state() == before
    administrator = token_for(client, "sam")
    response = call(client, "POST", NAMESPACES, administrator, {"namespace": "team-a"})
    assert response.status_code == 201


def test_the_list_holds_the_organizations_of_the_callers_permissions_and_visible_ones_on_asking(
    client: Client,
    alice: dict[str, str],
    team_a: Organization,
    owner: User,
    other_user: User,
    registry: Registry,
) -> None:
    team_b = Organization.objects.create_for(registry=registry, name="team-b", by=Actor(other_user))
    Organization.objects.create_for(registry=registry, name="team-c", by=Actor(other_user))
    grant(team_b, owner, READ, repository="app")  # a repository's only: visible, no level

    def names(query: str = "") -> list[tuple[str, int]]:
        response = call(client, "GET", f"{NAMESPACES}{query}", alice)
        assert response.status_code == 200
        return [(n["name"], n["auth"]) for n in response.json()["namespaces"]]

    assert names() == [("team-a", MANAGE)]
    assert names("?filter=mode::visible") == [("team-a", MANAGE), ("team-b", 0)]
    assert names("?filter=namespace::b|mode::visible") == [("team-b", 0)]
    assert names("?namespace=team-a") == [("team-a", MANAGE)]
    assert names("?namespace=team-b") == []
    listed = call(client, "GET", NAMESPACES, alice).json()["namespaces"][0]
    assert listed == {"id": team_a.pk, "name": "team-a", "creator_name": "alice", "auth": 7}


@pytest.mark.parametrize("query", ["filter=mode::all", "filter=team-a", "filter=owner::alice"])
def test_a_filter_huawei_does_not_define_is_a_400(
    client: Client, alice: dict[str, str], registry: Registry, query: str
) -> None:
    assert_error(call(client, "GET", f"{NAMESPACES}?{query}", alice), 400, "4001035")


def test_show_gives_the_callers_own_level_and_hides_an_organization_they_have_nothing_in(
    client: Client, alice: dict[str, str], bob: dict[str, str], team_a: Organization, carol: User
) -> None:
    grant(team_a, User.objects.get(username="bob"), READ)
    shown = call(client, "GET", f"{NAMESPACES}/team-a", alice).json()
    assert shown == {"id": team_a.pk, "name": "team-a", "creator_name": "alice", "auth": 7}
    assert call(client, "GET", f"{NAMESPACES}/team-a", bob).json()["auth"] == READ
    carols = token_for(client, "carol")
    assert_error(call(client, "GET", f"{NAMESPACES}/team-a", carols), 404, "4040058")


def test_a_name_that_is_another_organizations_public_id_finds_the_one_so_named(
    client: Client, alice: dict[str, str], owner: User, other_user: User, registry: Registry
) -> None:
    """Huawei's paths name organizations: "apps" (whose public id bob's name copies) is not
    the answer for bob's organization's name, though both match and "apps" sorts first."""
    apps = Organization.objects.create_for(registry=registry, name="apps", by=Actor(owner))
    decoy = Organization.objects.create_for(
        registry=registry, name="fedcba98-7654-3210-fedc-ba9876543210", by=Actor(other_user)
    )
    Organization.objects.filter(pk=apps.pk).update(public_id=decoy.name)
    grant(decoy, owner, READ)
    shown = call(client, "GET", f"{NAMESPACES}/{decoy.name}", alice)
    assert (shown.json()["name"], shown.json()["auth"]) == (decoy.name, READ)


def test_a_registry_administrator_sees_and_runs_every_organization(
    client: Client, team_a: Organization, staff_user: User
) -> None:
    admin = token_for(client, "sam")
    listed = call(client, "GET", NAMESPACES, admin).json()["namespaces"]
    assert [(n["name"], n["auth"]) for n in listed] == [("team-a", MANAGE)]
    assert call(client, "DELETE", f"{NAMESPACES}/team-a", admin).status_code == 204
    assert not Organization.objects.exists()


def test_an_organization_belongs_to_the_registry_of_the_callers_project(
    client: Client, owner: User, registry: Registry, other_registry: Registry
) -> None:
    # registry ("default") and other_registry ("second") share project cn-north-4: the first
    # by name is the project's. Another project's token reaches that project's registry.
    east = Registry.objects.create(
        region=Region.objects.create(name="cn-east-3"), name="east", address="swr.east.test"
    )
    for project in ("cn-north-4", "cn-east-3"):
        token = token_for(client, "alice", project=project)
        assert call(client, "POST", NAMESPACES, token, {"namespace": "team-a"}).status_code == 201
    made = Organization.objects.filter(name="team-a").values_list("registry", flat=True)
    assert sorted(made) == sorted([registry.pk, east.pk])


def test_another_registrys_organization_is_not_found_by_name_or_by_id(
    client: Client, alice: dict[str, str], owner: User, registry: Registry, other_registry: Registry
) -> None:
    elsewhere = Organization.objects.create_for(
        registry=other_registry, name="team-x", by=Actor(owner)
    )
    before = state()
    for key in ("team-x", str(elsewhere.public_id)):
        for method, path in [
            ("GET", f"{NAMESPACES}/{key}"),
            ("DELETE", f"{NAMESPACES}/{key}"),
            ("GET", f"{NAMESPACES}/{key}/access"),
        ]:
            assert_error(call(client, method, path, alice), 404, "4040058")
        response = call(
            client, "POST", f"{NAMESPACES}/{key}/access", alice, [{"user_id": "1", "auth": 1}]
        )
        assert_error(response, 404, "4040058")
    assert state() == before


def test_a_manage_holder_deletes_an_organization_with_its_grants(
    client: Client, alice: dict[str, str], team_a: Organization, other_user: User
) -> None:
    grant(team_a, other_user, EDIT)
    assert call(client, "DELETE", f"{NAMESPACES}/team-a", alice).status_code == 204
    assert not Organization.objects.exists()
    assert not Permission.objects.exists()
    actions = [action for action, _ in api_events()]
    assert actions == ["permission.revoked", "permission.revoked", "organization.deleted"]


# --- Permissions on an organization ---------------------------------------------------------


def test_grant_show_change_and_revoke_a_users_permission_on_an_organization(
    client: Client, alice: dict[str, str], team_a: Organization, other_user: User
) -> None:
    access = f"{NAMESPACES}/team-a/access"
    bob_id = iam_user_id(client, "bob")
    body = [{"user_id": bob_id, "user_name": "bob", "auth": READ}]
    assert call(client, "POST", access, alice, body).status_code == 201
    assert level_of(other_user, team_a) == READ

    shown = call(client, "GET", access, alice).json()
    assert shown == {
        "id": team_a.pk,
        "name": "team-a",
        "creator_name": "alice",
        "self_auth": {"user_id": str(team_a.created_by_id), "user_name": "alice", "auth": 7},
        "others_auths": [{"user_id": bob_id, "user_name": "bob", "auth": READ}],
    }
    changed = [{"user_id": bob_id, "user_name": "bob", "auth": EDIT}]
    assert call(client, "PATCH", access, alice, changed).status_code == 201
    assert level_of(other_user, team_a) == EDIT
    assert call(client, "DELETE", access, alice, [bob_id]).status_code == 204
    assert level_of(other_user, team_a) is None

    events = [(action, d["user"], d["old_level"], d["new_level"]) for action, d in api_events()]
    assert events == [
        ("permission.granted", "bob", 0, READ),
        ("permission.changed", "bob", READ, EDIT),
        ("permission.revoked", "bob", EDIT, 0),
    ]


def test_post_refuses_a_user_who_holds_a_permission_and_patch_or_delete_one_who_holds_none(
    client: Client, alice: dict[str, str], team_a: Organization, other_user: User, carol: User
) -> None:
    access = f"{NAMESPACES}/team-a/access"
    grant(team_a, other_user, READ)
    before = state()
    again = [{"user_id": str(other_user.pk), "user_name": "bob", "auth": EDIT}]
    assert "PATCH" in assert_error(call(client, "POST", access, alice, again), 409, "4090076")
    carols = [{"user_id": str(carol.pk), "user_name": "carol", "auth": READ}]
    assert "POST" in assert_error(call(client, "PATCH", access, alice, carols), 404, "4040078")
    assert_error(call(client, "DELETE", access, alice, [str(carol.pk)]), 404, "4040078")
    assert state() == before


@pytest.mark.parametrize(
    ("item", "code"),
    [
        ({"user_id": "999999", "auth": 1}, "4001067"),
        ({"user_id": "\u00b2", "auth": 1}, "4001067"),  # a digit int() cannot read
        ({"user_id": "9" * 40, "auth": 1}, "4001067"),
        ({"user_id": "alice", "auth": 1}, "4001067"),  # an id, not a name
        ({"user_id": "BOB", "user_name": "mallory", "auth": 1}, "4001067"),
        ({"user_id": "BOB", "user_name": "bob", "auth": 2}, "4001066"),
        ({"user_id": "BOB", "user_name": "bob", "auth": 0}, "4001066"),
        ({"user_id": "BOB", "user_name": "bob", "auth": "7"}, "4001066"),
        ({"user_id": "BOB", "user_name": "bob", "auth": True}, "4001066"),
        ({"user_id": "BOB", "user_name": "bob", "auth": 7.0}, "4001066"),
        ({"user_id": "BOB", "user_name": "bob"}, "4001036"),
        ({"user_name": "bob", "auth": 1}, "4001036"),
        ({"user_id": "", "auth": 1}, "4001036"),
        ({"user_id": "BOB", "user_name": 5, "auth": 1}, "4001036"),
    ],
)
def test_a_bad_grant_is_huaweis_400_and_changes_nothing(
    client: Client,
    alice: dict[str, str],
    team_a: Organization,
    other_user: User,
    item: dict,
    code: str,
) -> None:
    if item.get("user_id") == "BOB":
        item = {**item, "user_id": str(other_user.pk)}
    before = state()
    response = call(client, "POST", f"{NAMESPACES}/team-a/access", alice, [item])
    assert assert_error(response, 400, code)
    assert state() == before


@pytest.mark.parametrize(
    "body", [[], {}, "1", [["1", 1]], [None], [{"user_id": "1", "auth": 1}] * 2, [{}] * 101]
)
def test_a_malformed_permissions_body_is_a_400(
    client: Client, alice: dict[str, str], team_a: Organization, body: Any
) -> None:
    before = state()
    for method in ("POST", "PATCH"):
        response = call(client, method, f"{NAMESPACES}/team-a/access", alice, body)
        assert_error(response, 400, "4001036")
    assert state() == before


@pytest.mark.parametrize("body", [[], {}, [1.5], [""], [None], ["2", "2"]])
def test_a_malformed_list_of_user_ids_is_a_400(
    client: Client, alice: dict[str, str], team_a: Organization, body: Any
) -> None:
    before = state()
    response = call(client, "DELETE", f"{NAMESPACES}/team-a/access", alice, body)
    assert_error(response, 400, "4001036")
    assert state() == before


@pytest.mark.parametrize("user_id", ["\u00b2", "\u0663", "9" * 40, "alice"])
@pytest.mark.parametrize("where", ["team-a/access", "team-a/repos/app/access"])
def test_revoking_a_user_id_that_is_no_user_is_a_404_not_a_500(
    client: Client, alice: dict[str, str], team_a: Organization, where: str, user_id: str
) -> None:
    """Digits to str.isdigit that int() refuses ("²") or reads as another number ("٣")."""
    before = state()
    response = call(client, "DELETE", f"{NAMESPACES}/{where}", alice, [user_id])
    missing = "4040078" if where == "team-a/access" else "4040091"
    assert f"User {user_id} has no permission" in assert_error(response, 404, missing)
    assert state() == before


def test_a_body_is_all_or_nothing(
    client: Client, alice: dict[str, str], team_a: Organization, other_user: User, carol: User
) -> None:
    before = state()
    body = [
        {"user_id": str(other_user.pk), "user_name": "bob", "auth": EDIT},
        {"user_id": str(carol.pk), "user_name": "carol", "auth": 5},
    ]
    assert_error(call(client, "POST", f"{NAMESPACES}/team-a/access", alice, body), 400, "4001066")
    assert state() == before


@pytest.mark.parametrize("level", [READ, EDIT])
def test_a_read_or_edit_holder_can_neither_grant_revoke_nor_delete(
    client: Client,
    bob: dict[str, str],
    team_a: Organization,
    owner: User,
    other_user: User,
    carol: User,
    level: int,
) -> None:
    grant(team_a, other_user, level)
    grant(team_a, carol, READ)
    access = f"{NAMESPACES}/team-a/access"
    repo_access = f"{NAMESPACES}/team-a/repos/app/access"
    before = state()
    attempts = [
        call(client, "POST", access, bob, [{"user_id": str(owner.pk), "auth": READ}]),
        call(client, "PATCH", access, bob, [{"user_id": str(carol.pk), "auth": MANAGE}]),
        call(client, "DELETE", access, bob, [str(carol.pk)]),
        call(client, "DELETE", f"{NAMESPACES}/team-a", bob),
        call(client, "POST", repo_access, bob, [{"user_id": str(carol.pk), "auth": READ}]),
        # Unknown users: refused as not permitted, before the ids tell anything.
        call(client, "POST", access, bob, [{"user_id": "999999", "auth": READ}]),
        call(client, "DELETE", repo_access, bob, ["999999"]),
    ]
    for response in attempts:
        assert "Manage" in assert_error(response, 403, "4039002")
    assert state() == before


def test_the_last_manage_holder_cannot_step_down_or_leave(
    client: Client, alice: dict[str, str], team_a: Organization, owner: User
) -> None:
    access = f"{NAMESPACES}/team-a/access"
    before = state()
    lower = [{"user_id": str(owner.pk), "user_name": "alice", "auth": EDIT}]
    assert "last" in assert_error(call(client, "PATCH", access, alice, lower), 400, "4001065")
    assert_error(call(client, "DELETE", access, alice, [str(owner.pk)]), 400, "4001065")
    assert state() == before


@pytest.mark.django_db(transaction=True)
def test_racing_grants_of_one_user_make_one_row_and_one_event(
    alice: dict[str, str], team_a: Organization, other_user: User
) -> None:
    body = [{"user_id": str(other_user.pk), "user_name": "bob", "auth": EDIT}]

    def post() -> int:
        return call(Client(), "POST", f"{NAMESPACES}/team-a/access", alice, body).status_code

    outcomes = race(post, threads=10)
    assert sorted(outcomes) == [201] + [409] * 9
    assert level_of(other_user, team_a) == EDIT
    assert [action for action, _ in api_events()] == ["permission.granted"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("whom", ["each other", "themselves"])
def test_two_manage_holders_demoting_at_once_leave_one_holding_manage(
    alice: dict[str, str],
    bob: dict[str, str],
    team_a: Organization,
    owner: User,
    other_user: User,
    whom: str,
) -> None:
    grant(team_a, other_user, MANAGE)
    callers = iter([(alice, owner, other_user), (bob, other_user, owner)])

    def demote() -> int:
        headers, me, them = next(callers)  # each thread its own caller
        target = them if whom == "each other" else me
        body = [{"user_id": str(target.pk), "auth": READ}]
        return call(Client(), "PATCH", f"{NAMESPACES}/team-a/access", headers, body).status_code

    outcomes = race(demote, threads=2)
    refused = 403 if whom == "each other" else 400  # no Manage any more / the last holder
    assert sorted(outcomes) == [201, refused]
    assert team_a.permissions.managers().count() == 1


# --- Permissions on a repository ----------------------------------------------------------------


def test_grant_show_change_and_revoke_a_users_permission_on_a_repository(
    client: Client, alice: dict[str, str], team_a: Organization, other_user: User
) -> None:
    access = f"{NAMESPACES}/team-a/repos/tools$app/access"  # team-a/tools/app, "/" as "$"
    bob_id = str(other_user.pk)
    body = [{"user_id": bob_id, "user_name": "bob", "auth": MANAGE}]
    assert call(client, "POST", access, alice, body).status_code == 201
    assert level_of(other_user, team_a, "tools/app") == MANAGE
    assert level_of(other_user, team_a) is None

    shown = call(client, "GET", access, alice).json()
    assert shown == {
        "id": team_a.pk,
        "name": "tools/app",
        "self_auth": {"user_id": str(team_a.created_by_id), "user_name": "alice", "auth": 7},
        "others_auths": [{"user_id": bob_id, "user_name": "bob", "auth": MANAGE}],
    }
    plain = f"{NAMESPACES}/team-a/repos/tools/app/access"  # a plain "/" names it too
    assert call(client, "GET", plain, alice).json() == shown
    body[0]["auth"] = READ
    assert call(client, "PATCH", access, alice, body).status_code == 201
    assert level_of(other_user, team_a, "tools/app") == READ
    assert call(client, "DELETE", access, alice, [bob_id]).status_code == 204
    assert level_of(other_user, team_a, "tools/app") is None
    events = [(a, d["repository"], d["old_level"], d["new_level"]) for a, d in api_events()]
    assert events == [
        ("permission.granted", "tools/app", 0, MANAGE),
        ("permission.changed", "tools/app", MANAGE, READ),
        ("permission.revoked", "tools/app", READ, 0),
    ]


def test_a_repositorys_manage_holder_grants_there_and_nowhere_else(
    client: Client, bob: dict[str, str], team_a: Organization, other_user: User, carol: User
) -> None:
    grant(team_a, other_user, MANAGE, repository="app")
    body = [{"user_id": str(carol.pk), "user_name": "carol", "auth": EDIT}]
    repo = f"{NAMESPACES}/team-a/repos/app/access"
    assert call(client, "POST", repo, bob, body).status_code == 201
    assert level_of(carol, team_a, "app") == EDIT
    before = state()
    other_repo = f"{NAMESPACES}/team-a/repos/web/access"
    assert_error(call(client, "POST", other_repo, bob, body), 403, "4039002")
    assert_error(call(client, "POST", f"{NAMESPACES}/team-a/access", bob, body), 403, "4039002")
    assert state() == before
    # They see their repository's grants, with their own level.
    shown = call(client, "GET", repo, bob).json()
    assert shown["self_auth"]["auth"] == MANAGE
    assert [o["user_name"] for o in shown["others_auths"]] == ["carol"]


@pytest.mark.parametrize("repository", ["App", "a$$b", "-app", "app$", "a%20b", "x" * 256])
def test_a_repository_name_docker_refuses_is_a_400(
    client: Client, alice: dict[str, str], team_a: Organization, other_user: User, repository: str
) -> None:
    before = state()
    body = [{"user_id": str(other_user.pk), "auth": READ}]
    response = call(client, "POST", f"{NAMESPACES}/team-a/repos/{repository}/access", alice, body)
    assert_error(response, 400, "4001029")
    assert state() == before


def test_repository_grants_follow_the_same_refusals(
    client: Client, alice: dict[str, str], team_a: Organization, other_user: User, carol: User
) -> None:
    access = f"{NAMESPACES}/team-a/repos/app/access"
    grant(team_a, other_user, READ, repository="app")
    before = state()
    again = [{"user_id": str(other_user.pk), "auth": EDIT}]
    assert_error(call(client, "POST", access, alice, again), 409, "4090089")
    none = [{"user_id": str(carol.pk), "auth": EDIT}]
    assert_error(call(client, "PATCH", access, alice, none), 404, "4040091")
    assert_error(call(client, "DELETE", access, alice, [str(carol.pk)]), 404, "4040091")
    assert_error(call(client, "POST", access, alice, [{"user_id": "0", "auth": 1}]), 400, "4001067")
    assert_error(call(client, "PATCH", access, alice, [{**again[0], "auth": 4}]), 400, "4001066")
    assert state() == before


# --- The API's frame ------------------------------------------------------------------------------

PATHS = [
    ("POST", NAMESPACES),
    ("GET", NAMESPACES),
    ("GET", f"{NAMESPACES}/team-a"),
    ("DELETE", f"{NAMESPACES}/team-a"),
    *[(m, f"{NAMESPACES}/team-a/access") for m in ("POST", "GET", "PATCH", "DELETE")],
    *[(m, f"{NAMESPACES}/team-a/repos/app/access") for m in ("POST", "GET", "PATCH", "DELETE")],
]


@pytest.mark.parametrize(("method", "path"), PATHS)
def test_every_operation_needs_a_token_or_a_signature(
    client: Client, team_a: Organization, method: str, path: str
) -> None:
    before = state()[:2]
    body = [{"user_id": "1", "auth": 1}] if "access" in path else {"namespace": "team-b"}
    response = call(client, method, path, {"X-Auth-Token": "forged"}, body)
    assert_error(response, 401, "4010000")
    assert state()[:2] == before


def test_a_method_huawei_does_not_define_is_a_405(
    client: Client, alice: dict[str, str], team_a: Organization
) -> None:
    response = call(client, "PUT", f"{NAMESPACES}/team-a/access", alice, [])
    assert_error(response, 405, "4050000")
    assert response["Allow"] == "DELETE, GET, PATCH, POST"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'[{"auth": ' * 10_000 + b"1" + b"}]" * 10_000, "application/json"),  # 10,000 deep
        (b'[{"user_id": "\xff\xfe", "auth": 1}]', "application/json"),
        (b'[{"user_id": "\\ud800", "auth": 1}]', "application/json"),  # a lone surrogate
        (b'[{"user_id": "1", "auth": 1}]', "text/plain"),
        (b"", "application/json"),
    ],
)
def test_a_hostile_body_with_a_good_token_is_a_400_on_every_write(
    client: Client, alice: dict[str, str], team_a: Organization, body: bytes, content_type: str
) -> None:
    before = state()
    for method, path in PATHS:
        if method == "GET" or path == f"{NAMESPACES}/team-a":
            continue  # no body read
        response = client.generic(method, path, body, content_type=content_type, headers=alice)
        assert response.status_code == 400, (method, path, response.content)
    assert state() == before
