"""Permissions: grants made, changed and revoked through the domain (each audited old → new,
each refusal changing nothing), the effective level, registry administrators, the token
service's one-query lookup, and a long-term credential's narrowing."""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.utils import translation

from credentials.models import (
    Actor,
    AuditEvent,
    ConsoleError,
    GranteeRefused,
    LastManagerRefused,
    LevelRefused,
    LongTermCredential,
    NameRefused,
    NarrowingRefused,
    NotPermitted,
    Organization,
    Permission,
    Registry,
    User,
    credential_access,
    grantee_group,
    grantee_user,
    is_registry_admin,
    user_access,
)
from credentials.rules import EDIT, MANAGE, READ, REGISTRY_ADMINISTRATORS
from tests.helpers import make_user, new_credential, race


@pytest.fixture
def team_a(owner: User, registry: Registry) -> Organization:
    """Organization team-a of the registry; alice (the owner) created it and holds Manage."""
    return Organization.objects.create_for(registry=registry, name="team-a", by=Actor(user=owner))


@pytest.fixture
def devs(db: None) -> Group:
    return Group.objects.create(name="devs")


def by(user: User) -> Actor:
    return Actor(user=user)


def trail() -> list[tuple[str, str, str, int, int]]:
    """The permission events: action, grantee, where, old → new."""
    found = AuditEvent.objects.filter(action__startswith="permission.").order_by("id")
    return [
        (
            event.action,
            event.detail.get("user") or f"group:{event.detail['group']}",
            "/".join(filter(None, [event.detail["organization"], event.detail["repository"]])),
            event.detail["old_level"],
            event.detail["new_level"],
        )
        for event in found
    ]


# --- Grant, change, revoke --------------------------------------------------------------------


def test_a_grant_its_change_and_its_revocation_are_each_audited_old_to_new(
    team_a: Organization, owner: User, other_user: User
) -> None:
    row, old = team_a.grant(level=READ, by=by(owner), user=other_user)
    assert (row.level, old) == (READ, 0)
    row, old = team_a.grant(level=EDIT, by=by(owner), user=other_user)
    assert (row.level, old) == (EDIT, READ)
    assert team_a.revoke(by=by(owner), user=other_user) == EDIT

    assert trail() == [
        ("permission.granted", "alice", "team-a", 0, MANAGE),  # the creator's
        ("permission.granted", "bob", "team-a", 0, READ),
        ("permission.changed", "bob", "team-a", READ, EDIT),
        ("permission.revoked", "bob", "team-a", EDIT, 0),
    ]
    event = AuditEvent.objects.filter(action="permission.changed").get()
    assert (event.actor_username, event.registry_id) == ("alice", team_a.registry_id)
    assert not Permission.objects.filter(user=other_user).exists()


def test_granting_the_level_already_held_or_revoking_nothing_records_nothing(
    team_a: Organization, owner: User, other_user: User
) -> None:
    team_a.grant(level=EDIT, by=by(owner), user=other_user)
    before = AuditEvent.objects.count()
    assert team_a.grant(level=EDIT, by=by(owner), user=other_user)[1] == EDIT
    assert team_a.revoke(by=by(owner), user=other_user, repository="app") == 0
    assert AuditEvent.objects.count() == before


def test_a_repository_grant_is_a_row_of_its_own(
    team_a: Organization, owner: User, other_user: User
) -> None:
    team_a.grant(level=READ, by=by(owner), user=other_user)
    team_a.grant(level=EDIT, by=by(owner), user=other_user, repository="team/app")
    assert trail()[-1] == ("permission.granted", "bob", "team-a/team/app", 0, EDIT)
    assert team_a.level_of(other_user) == READ
    assert team_a.level_of(other_user, "team/app") == EDIT
    assert team_a.level_of(other_user, "other") == READ


# --- Refusals, each changing nothing ----------------------------------------------------------


@pytest.mark.parametrize("level", [READ, EDIT])
def test_a_read_or_edit_holder_may_not_grant_change_or_revoke(
    team_a: Organization, owner: User, other_user: User, level: int
) -> None:
    third = make_user("carol")
    team_a.grant(level=level, by=by(owner), user=other_user)
    team_a.grant(level=READ, by=by(owner), user=third)
    before = (AuditEvent.objects.count(), list(Permission.objects.values_list("level")))

    for attempt in (
        lambda: team_a.grant(level=MANAGE, by=by(other_user), user=other_user),
        lambda: team_a.grant(level=EDIT, by=by(other_user), user=third),
        lambda: team_a.grant(level=READ, by=by(other_user), user=third, repository="app"),
        lambda: team_a.revoke(by=by(other_user), user=third),
        lambda: team_a.revoke(by=by(other_user), user=owner),
    ):
        with pytest.raises(NotPermitted, match="You need the Manage permission on organization"):
            attempt()
    assert (AuditEvent.objects.count(), list(Permission.objects.values_list("level"))) == before


def test_a_repository_manage_holder_grants_on_that_repository_only(
    team_a: Organization, owner: User, other_user: User
) -> None:
    third = make_user("carol")
    team_a.grant(level=MANAGE, by=by(owner), user=other_user, repository="app")
    team_a.grant(level=READ, by=by(other_user), user=third, repository="app")
    with pytest.raises(NotPermitted):
        team_a.grant(level=READ, by=by(other_user), user=third)
    with pytest.raises(NotPermitted):
        team_a.grant(level=READ, by=by(other_user), user=third, repository="other")
    with pytest.raises(NotPermitted):
        team_a.delete_by(by=by(other_user))
    assert team_a.level_of(third, "app") == READ


def test_the_last_manage_holder_may_not_be_removed_or_downgraded(
    team_a: Organization, owner: User
) -> None:
    before = AuditEvent.objects.count()
    with pytest.raises(LastManagerRefused) as refused:
        team_a.revoke(by=by(owner), user=owner)
    assert str(refused.value) == (
        "alice is the last holder of the Manage permission on organization “team-a”. Give "
        "Manage to another user or group first."
    )
    with translation.override("zh-hans"), pytest.raises(LastManagerRefused) as refused:
        team_a.grant(level=EDIT, by=by(owner), user=owner)
    assert str(refused.value) == (
        "alice 是组织“team-a”中最后一个拥有管理权限的用户或用户组。请先将管理权限授予其他用户或用户组。"
    )
    assert Permission.objects.get().level == MANAGE
    assert AuditEvent.objects.count() == before


def test_a_group_holding_manage_lets_the_last_user_holder_step_down(
    team_a: Organization, owner: User, devs: Group
) -> None:
    owner.groups.add(devs)
    team_a.grant(level=MANAGE, by=by(owner), group=devs)
    assert team_a.revoke(by=by(owner), user=owner) == MANAGE
    assert team_a.level_of(owner) == MANAGE  # through the group
    with pytest.raises(LastManagerRefused, match="devs is the last holder"):
        team_a.revoke(by=by(owner), group=devs)
    assert trail()[-1] == ("permission.revoked", "alice", "team-a", MANAGE, 0)


def test_a_registry_administrator_may_remove_the_last_manage_holder(
    team_a: Organization, owner: User, staff_user: User
) -> None:
    assert team_a.revoke(by=by(staff_user), user=owner) == MANAGE
    assert not Permission.objects.exists()
    assert trail()[-1] == ("permission.revoked", "alice", "team-a", MANAGE, 0)


def test_a_grant_to_an_inactive_or_unknown_user_or_an_unknown_group_is_refused(
    team_a: Organization, owner: User
) -> None:
    gone = make_user("gone", is_active=False)
    before = AuditEvent.objects.count()
    with pytest.raises(GranteeRefused) as refused:
        team_a.grant(level=READ, by=by(owner), user=gone)
    assert str(refused.value) == "There is no active user “gone”."
    with translation.override("zh-hans"), pytest.raises(GranteeRefused) as refused:
        team_a.grant(level=READ, by=by(owner), user=gone)
    assert str(refused.value) == "不存在名为“gone”的有效用户。"
    deleted = make_user("deleted")
    User.objects.filter(pk=deleted.pk).delete()
    with pytest.raises(GranteeRefused, match="There is no active user “deleted”"):
        team_a.grant(level=READ, by=by(owner), user=deleted)
    removed = Group.objects.create(name="removed")
    Group.objects.filter(pk=removed.pk).delete()
    with pytest.raises(GranteeRefused, match="There is no group “removed”"):
        team_a.grant(level=READ, by=by(owner), group=removed)
    with pytest.raises(GranteeRefused, match="Name either a user or a group"):
        team_a.grant(level=READ, by=by(owner))
    assert Permission.objects.count() == 1
    assert AuditEvent.objects.count() == before


def test_entry_points_find_grantees_by_id_or_name_or_are_refused(owner: User, devs: Group) -> None:
    assert grantee_user(user_id=str(owner.pk)) == owner
    assert grantee_user(username="alice") == owner
    assert grantee_group("devs") == devs
    make_user("gone", is_active=False)
    for attempt in (
        lambda: grantee_user(user_id="999999"),
        lambda: grantee_user(user_id="not-a-number"),
        lambda: grantee_user(username="gone"),
        lambda: grantee_group("nobody"),
    ):
        with pytest.raises(GranteeRefused):
            attempt()


@pytest.mark.parametrize("level", [0, 2, 4, 8, "3"])
def test_a_level_other_than_1_3_or_7_is_refused_in_both_languages(
    team_a: Organization, owner: User, other_user: User, level: object
) -> None:
    with pytest.raises(LevelRefused) as refused:
        team_a.grant(level=level, by=by(owner), user=other_user)  # type: ignore[arg-type]
    assert str(refused.value) == (
        f"“{level}” is not a permission level: use 1 (Read), 3 (Edit) or 7 (Manage)."
    )
    with translation.override("zh-hans"), pytest.raises(LevelRefused) as refused:
        team_a.grant(level=level, by=by(owner), user=other_user)  # type: ignore[arg-type]
    assert (
        str(refused.value)
        == f"“{level}”不是有效的权限级别：请使用 1（只读）、3（编辑）或 7（管理）。"
    )
    assert not Permission.objects.filter(user=other_user).exists()


def test_a_bad_repository_path_is_refused(
    team_a: Organization, owner: User, other_user: User
) -> None:
    for path in ("App", "app/", "/app", "a//b", "-app", "app..x"):
        with pytest.raises(NameRefused, match="A repository name is made of parts"):
            team_a.grant(level=READ, by=by(owner), user=other_user, repository=path)
    with pytest.raises(NameRefused, match="at most 255 characters long with its organization"):
        team_a.grant(level=READ, by=by(owner), user=other_user, repository="a" * 250)
    assert not Permission.objects.filter(user=other_user).exists()


def test_the_database_itself_refuses_a_bad_level_or_a_row_for_both_or_neither(
    team_a: Organization, other_user: User, devs: Group
) -> None:
    bad_rows = [
        {"user": other_user, "level": 2},
        {"user": other_user, "group": devs, "level": READ},
        {"level": READ},
    ]
    for fields in bad_rows:
        with pytest.raises(IntegrityError), transaction.atomic():
            Permission.objects.create(organization=team_a, **fields)
    Permission.objects.create(organization=team_a, user=other_user, level=READ)
    with pytest.raises(IntegrityError), transaction.atomic():
        Permission.objects.create(organization=team_a, user=other_user, level=EDIT)


def test_an_organization_deleted_meanwhile_is_refused(
    team_a: Organization, owner: User, other_user: User
) -> None:
    Organization.objects.filter(pk=team_a.pk).delete()
    with pytest.raises(ConsoleError, match="This organization no longer exists"):
        team_a.grant(level=READ, by=by(owner), user=other_user)


# --- Effective permission and administrators --------------------------------------------------


def test_the_highest_of_own_and_group_grants_applies_until_the_user_leaves_the_group(
    team_a: Organization, owner: User, other_user: User, devs: Group, registry: Registry
) -> None:
    team_a.grant(level=READ, by=by(owner), user=other_user)
    team_a.grant(level=EDIT, by=by(owner), group=devs, repository="app")
    other_user.groups.add(devs)
    access = user_access(other_user, registry, ["team-a/app", "team-a/web"])
    assert access.levels == {"team-a/app": EDIT, "team-a/web": READ}
    assert access.actions("team-a/app") == {"pull", "push"}

    other_user.groups.remove(devs)
    assert user_access(other_user, registry, ["team-a/app"]).levels == {"team-a/app": READ}


def test_registry_administrators_have_manage_everywhere_even_outside_organizations(
    team_a: Organization, other_user: User, staff_user: User, registry: Registry
) -> None:
    names = ["team-a/app", "team-b/app", "alpine"]
    assert user_access(other_user, registry, names).levels == dict.fromkeys(names, 0)
    assert not is_registry_admin(other_user)

    other_user.groups.add(Group.objects.get_or_create(name=REGISTRY_ADMINISTRATORS)[0])
    for user in (other_user, staff_user):  # by the group, and a superuser
        access = user_access(user, registry, names)
        assert access.levels == dict.fromkeys(names, MANAGE)
        assert access.actions("alpine") == {"pull", "push", "delete"}
        assert (access.administrator, access.catalog) == (True, True)
        assert is_registry_admin(user)
        assert team_a.level_of(user) == MANAGE


def test_an_inactive_superuser_is_no_administrator(staff_user: User, registry: Registry) -> None:
    User.objects.filter(pk=staff_user.pk).update(is_active=False)
    staff_user.refresh_from_db()
    assert not is_registry_admin(staff_user)
    assert user_access(staff_user, registry, ["alpine"]).levels == {"alpine": 0}


def test_repositories_outside_any_organization_or_in_another_registry_give_nothing(
    team_a: Organization, owner: User, other_registry: Registry
) -> None:
    assert user_access(owner, other_registry, ["team-a/app"]).levels == {"team-a/app": 0}


def test_the_lookup_is_one_query_whatever_it_is_asked(
    team_a: Organization, owner: User, other_user: User, devs: Group, registry: Registry,
    django_assert_num_queries,
) -> None:  # fmt: skip
    other_user.groups.add(devs)
    team_a.grant(level=EDIT, by=by(owner), group=devs)
    credential, _ = new_credential(other_user, registry, "ci", access="pull")
    names = [f"team-{n}/app{i}" for n in "abc" for i in range(5)] + ["alpine", "team-a/app0"]
    with django_assert_num_queries(1):
        access = user_access(other_user.pk, registry.pk, names)
    assert access.levels["team-a/app3"] == EDIT
    assert access.levels["team-b/app3"] == access.levels["alpine"] == 0
    with django_assert_num_queries(1):
        narrowed = credential_access(credential.pk, names)
    assert narrowed.levels["team-a/app3"] == READ
    with django_assert_num_queries(1):
        assert user_access(other_user, registry, []).levels == {}


# --- A long-term credential's narrowing -------------------------------------------------------


def test_a_pull_only_credential_of_an_edit_holder_may_only_pull(
    team_a: Organization, owner: User, other_user: User, registry: Registry
) -> None:
    team_a.grant(level=EDIT, by=by(owner), user=other_user)
    credential, _ = new_credential(other_user, registry, "ci", access="pull")
    assert credential_access(credential, ["team-a/app"]).actions("team-a/app") == {"pull"}
    created = AuditEvent.objects.get(action="long_term.created")
    assert created.detail == {"access": "pull", "organizations": "all"}


def test_a_credential_narrowed_to_an_organization_reaches_no_other(
    team_a: Organization, owner: User, staff_user: User, registry: Registry
) -> None:
    team_b = Organization.objects.create_for(registry=registry, name="team-b", by=by(owner))
    credential, _ = new_credential(owner, registry, "ci", organizations=[team_a])
    names = ["team-a/app", "team-b/app", "alpine"]
    assert credential_access(credential, names).levels == {
        "team-a/app": MANAGE, "team-b/app": 0, "alpine": 0,
    }  # fmt: skip
    assert user_access(owner, registry, names).levels["team-b/app"] == MANAGE
    # An administrator's narrowed credential is narrowed too, and lists no catalog.
    admins, _ = new_credential(staff_user, registry, "admin-ci", organizations=[team_b])
    access = credential_access(admins, names)
    assert access.levels == {"team-a/app": 0, "team-b/app": MANAGE, "alpine": 0}
    assert (access.administrator, access.catalog) == (True, False)


def test_a_credential_whose_organizations_were_all_deleted_reaches_nothing(
    team_a: Organization, owner: User, registry: Registry
) -> None:
    credential, _ = new_credential(owner, registry, "ci", organizations=[team_a])
    team_a.delete_by(by=by(owner))
    operator = Actor(user=None, channel="system")  # only an administrator re-creates the name
    Organization.objects.create_for(registry=registry, name="team-a", by=operator)
    assert credential_access(credential, ["team-a/app"]).levels == {"team-a/app": 0}


def test_a_credential_of_every_organization_follows_its_owner(
    team_a: Organization, owner: User, other_user: User, registry: Registry
) -> None:
    credential, _ = new_credential(other_user, registry, "ci")
    assert credential_access(credential, ["team-a/app"]).levels == {"team-a/app": 0}
    team_a.grant(level=EDIT, by=by(owner), user=other_user)
    assert credential_access(credential, ["team-a/app"]).levels == {"team-a/app": EDIT}
    team_a.revoke(by=by(owner), user=other_user)
    assert credential_access(credential, ["team-a/app"]).levels == {"team-a/app": 0}
    LongTermCredential.objects.filter(pk=credential.pk).delete()
    assert credential_access(credential.pk, ["team-a/app"]).levels == {}


def test_a_narrowing_to_another_registrys_organization_or_an_unknown_access_is_refused(
    owner: User, registry: Registry, other_registry: Registry
) -> None:
    elsewhere = Organization.objects.create_for(
        registry=other_registry, name="team-x", by=by(owner)
    )
    with pytest.raises(NarrowingRefused) as refused:
        new_credential(owner, registry, "ci", organizations=[elsewhere])
    assert str(refused.value) == "Organization “team-x” is not an organization of this registry."
    with translation.override("zh-hans"), pytest.raises(NarrowingRefused) as refused:
        new_credential(owner, registry, "ci", access="push")
    assert str(refused.value) == (
        "“push”不是有效的访问方式：请使用“inherit”（与我的权限相同）或“pull”（仅拉取）。"
    )
    assert not LongTermCredential.objects.exists()


# --- Races ------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_fifty_racing_grants_on_one_user_end_as_one_row_with_every_change_audited(
    owner: User, other_user: User, registry: Registry
) -> None:
    team_a = Organization.objects.create_for(registry=registry, name="team-a", by=by(owner))
    levels = iter([READ, EDIT, MANAGE] * 17)
    chosen = [next(levels) for _ in range(50)]
    index = iter(range(50))

    def grant() -> tuple[Permission, int]:
        level = chosen[next(index)]
        return team_a.grant(level=level, by=by(owner), user=other_user)

    outcomes = race(grant, threads=50)

    failed = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    assert not failed, failed
    row = Permission.objects.get(user=other_user)  # one row
    changes = [t for t in trail() if t[1] == "bob"]
    assert changes[0][0] == "permission.granted"
    assert all(action == "permission.changed" for action, *_ in changes[1:])
    for earlier, later in itertools.pairwise(changes):
        assert later[3] == earlier[4]  # each old level is the one before's new level
        assert later[3] != later[4]
    assert changes[-1][4] == row.level
    # Every grant that found another level recorded its change; the others, nothing.
    moved = sum(1 for grant_row, old in outcomes if old != grant_row.level)
    assert len(changes) == moved


def test_deleting_a_user_or_a_group_audits_each_grant_removed_with_it(
    team_a: Organization, owner: User, other_user: User, devs: Group
) -> None:
    team_a.grant(level=EDIT, by=by(owner), user=other_user, repository="app")
    team_a.grant(level=READ, by=by(owner), group=devs)
    other_user.delete()
    devs.delete()
    assert trail()[-2:] == [
        ("permission.revoked", "bob", "team-a/app", EDIT, 0),
        ("permission.revoked", "group:devs", "team-a", READ, 0),
    ]
    reasons = AuditEvent.objects.filter(action="permission.revoked").values_list(
        "detail__reason", flat=True
    )
    assert sorted(reasons) == ["the group devs was deleted", "the user bob was deleted"]
    assert Permission.objects.count() == 1
