"""Organizations: SWR's name rule, created (the creator gets Manage) and deleted (with their
grants) through the domain, audited, found only in their own registry; manage.py
grant_permissions and what `migrate` tells the operator."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from credentials.models import (
    Actor,
    AuditEvent,
    NameRefused,
    NotPermitted,
    Organization,
    OrganizationExists,
    Permission,
    Registry,
    User,
)
from credentials.rules import (
    EDIT,
    MANAGE,
    ORGANIZATION_NAME_RULE,
    READ,
    REGISTRY_ADMINISTRATORS,
    organization_name_problem,
)
from tests.helpers import make_user, race


def create(registry: Registry, name: str, user: User) -> Organization:
    return Organization.objects.create_for(registry=registry, name=name, by=Actor(user=user))


def events(*actions: str) -> list[tuple[str, dict]]:
    found = AuditEvent.objects.order_by("id")
    if actions:
        found = found.filter(action__in=actions)
    return [(event.action, event.detail) for event in found]


# --- The name rule ----------------------------------------------------------------------------

# Each way to break SWR's rule, with the message in English and in Chinese.
BROKEN = [
    ("", "Enter an organization name.", "请输入组织名称。"),
    (
        "a" * 65,
        "The organization name can be at most 64 characters long (it has 65).",
        "组织名称最多 64 个字符（当前为 65 个）。",
    ),
    (
        "Team-A",
        "The name contains “T”, “A”. Use only lowercase letters (a–z), digits (0–9), and "
        "the separators “.”, “_” and “-”.",
        "名称包含 “T”、“A”。 只能使用小写字母（a–z）、数字（0–9）以及分隔符“.”、“_”和“-”。",
    ),
    (
        "1team",
        "The organization name must start with a lowercase letter.",
        "组织名称必须以小写字母开头。",
    ),
    (
        "-team",
        "The organization name must start with a lowercase letter.",
        "组织名称必须以小写字母开头。",
    ),
    (
        "team.",
        "The organization name must end with a lowercase letter or digit.",
        "组织名称必须以小写字母或数字结尾。",
    ),
    ("team___a", "“_” can appear at most twice in a row.", "“_”最多只能连续出现两个。"),
    (
        "team.-a",
        "Separators (“.”, “_”, “-”) cannot follow one another (only “__” is allowed); put a "
        "letter or digit between them.",
        "分隔符（“.”、“_”、“-”）不能连续出现（“__”除外），请在其间加入字母或数字。",
    ),
    (
        "team__.a",
        "Separators (“.”, “_”, “-”) cannot follow one another (only “__” is allowed); put a "
        "letter or digit between them.",
        "分隔符（“.”、“_”、“-”）不能连续出现（“__”除外），请在其间加入字母或数字。",
    ),
]


@pytest.mark.parametrize(("name", "english", "chinese"), BROKEN)
def test_a_name_breaking_the_rule_is_told_what_is_wrong_in_both_languages(
    name: str, english: str, chinese: str
) -> None:
    assert organization_name_problem(name) == english
    with translation.override("zh-hans"):
        assert organization_name_problem(name) == chinese


@pytest.mark.parametrize("name", ["a", "team-a", "team_a", "team__a", "a.b-c_d", "t1", "a" * 64])
def test_names_keeping_the_rule_are_accepted(name: str) -> None:
    assert organization_name_problem(name) is None


@pytest.mark.parametrize(
    "name",
    ["a", "team__a", "a___b", "a._b", "_a", "1a", "a-", "A", "a" * 64, "a" * 65, "a__-b", "a..b"],
)
def test_the_written_rule_and_the_messages_agree(name: str) -> None:
    matches = re.fullmatch(ORGANIZATION_NAME_RULE, name) is not None and len(name) <= 64
    assert matches == (organization_name_problem(name) is None)


# --- Create -----------------------------------------------------------------------------------


def test_the_creator_gets_manage_and_both_are_audited(owner: User, registry: Registry) -> None:
    organization = create(registry, "team-a", owner)

    assert organization.created_by == owner
    assert organization.level_of(owner) == MANAGE
    grant = Permission.objects.get()
    assert (grant.user, grant.repository, grant.level) == (owner, "", MANAGE)
    created, granted = AuditEvent.objects.order_by("id")
    assert created.action == "organization.created"
    assert created.registry == registry
    assert created.actor_username == "alice"
    assert created.detail["organization"] == "team-a"
    assert granted.action == "permission.granted"
    assert granted.detail | {"organization_public_id": ""} == {
        "organization": "team-a",
        "organization_public_id": "",
        "repository": "",
        "user": "alice",
        "old_level": 0,
        "new_level": MANAGE,
    }


def test_an_invalid_name_is_refused_and_nothing_is_created(owner: User, registry: Registry) -> None:
    with pytest.raises(NameRefused, match="must start with a lowercase letter"):
        create(registry, "1team", owner)
    assert not Organization.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_duplicate_name_is_refused_in_both_languages(
    owner: User, other_user: User, registry: Registry
) -> None:
    create(registry, "team-a", owner)
    with pytest.raises(OrganizationExists) as refused:
        create(registry, "team-a", other_user)
    assert str(refused.value) == "This registry already has an organization named “team-a”."
    with translation.override("zh-hans"), pytest.raises(OrganizationExists) as refused:
        create(registry, "team-a", other_user)
    assert str(refused.value) == "此镜像仓库已有名为“team-a”的组织。"
    assert Organization.objects.count() == 1
    assert Permission.objects.get().user == owner


def test_the_same_name_may_exist_in_another_registry(
    owner: User, registry: Registry, other_registry: Registry
) -> None:
    create(registry, "team-a", owner)
    create(other_registry, "team-a", owner)
    assert Organization.objects.filter(name="team-a").count() == 2


@pytest.mark.django_db(transaction=True)
def test_racing_creates_of_one_name_make_exactly_one_organization(
    owner: User, registry: Registry
) -> None:
    outcomes = race(lambda: create(registry, "team-a", owner), threads=4)

    refused = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    assert len(refused) == 3
    assert all(isinstance(outcome, OrganizationExists) for outcome in refused), refused
    assert Organization.objects.count() == 1
    assert Permission.objects.count() == 1
    assert len(events("organization.created")) == 1


# --- Find -------------------------------------------------------------------------------------


def test_a_user_finds_only_the_organizations_they_hold_a_grant_in(
    owner: User, other_user: User, registry: Registry
) -> None:
    team_a = create(registry, "team-a", owner)
    create(registry, "team-b", owner)
    team_a.grant(level=READ, by=Actor(user=owner), user=other_user, repository="app")

    seen = Organization.objects.for_user(other_user, registry)
    assert [(org.name, org.level) for org in seen] == [("team-a", 0)]  # a repository grant only
    assert Organization.objects.lookup(other_user, registry, "team-b") is None
    found = Organization.objects.lookup(other_user, registry, str(team_a.public_id))
    assert (found, found.level) == (team_a, 0)
    mine = Organization.objects.for_user(owner, registry)
    assert [(org.name, org.level) for org in mine] == [("team-a", MANAGE), ("team-b", MANAGE)]


def test_another_registrys_organization_is_not_found_by_id_or_name(
    owner: User, registry: Registry, other_registry: Registry
) -> None:
    elsewhere = create(other_registry, "team-a", owner)
    assert Organization.objects.lookup(owner, registry, str(elsewhere.public_id)) is None
    assert Organization.objects.lookup(owner, registry, "team-a") is None
    assert Organization.objects.lookup(owner, other_registry, "team-a") == elsewhere


def test_a_registry_administrator_finds_every_organization_with_manage(
    owner: User, other_user: User, registry: Registry
) -> None:
    create(registry, "team-a", owner)
    other_user.groups.add(Group.objects.get_or_create(name=REGISTRY_ADMINISTRATORS)[0])
    seen = Organization.objects.for_user(other_user, registry)
    assert [(org.name, org.level) for org in seen] == [("team-a", MANAGE)]


# --- Delete -----------------------------------------------------------------------------------


def test_a_manage_holder_deletes_it_and_each_grant_removal_is_audited(
    owner: User, other_user: User, registry: Registry
) -> None:
    organization = create(registry, "team-a", owner)
    organization.grant(level=EDIT, by=Actor(user=owner), user=other_user)
    AuditEvent.objects.all()  # the trail so far stays
    before = AuditEvent.objects.count()

    organization.delete_by(by=Actor(user=owner))

    assert not Organization.objects.exists()
    assert not Permission.objects.exists()
    added = list(AuditEvent.objects.order_by("id")[before:])
    revoked = sorted(
        (e.detail["user"], e.detail["old_level"], e.detail["new_level"]) for e in added[:-1]
    )
    assert [e.action for e in added[:-1]] == ["permission.revoked"] * 2
    assert revoked == [("alice", MANAGE, 0), ("bob", EDIT, 0)]
    assert added[-1].action == "organization.deleted"
    assert added[-1].detail["grants_removed"] == 2


@pytest.mark.parametrize("level", [READ, EDIT])
def test_a_read_or_edit_holder_may_not_delete_it(
    owner: User, other_user: User, registry: Registry, level: int
) -> None:
    organization = create(registry, "team-a", owner)
    organization.grant(level=level, by=Actor(user=owner), user=other_user)
    before = AuditEvent.objects.count()

    with pytest.raises(NotPermitted) as refused:
        organization.delete_by(by=Actor(user=other_user))
    assert str(refused.value) == (
        "You need the Manage permission on organization “team-a” to do this."
    )
    with translation.override("zh-hans"), pytest.raises(NotPermitted) as refused:
        organization.delete_by(by=Actor(user=other_user))
    assert str(refused.value) == "您需要组织“team-a”的管理权限才能执行此操作。"
    assert Organization.objects.exists()
    assert Permission.objects.count() == 2
    assert AuditEvent.objects.count() == before


def test_a_registry_administrator_deletes_any_organization(
    owner: User, staff_user: User, registry: Registry
) -> None:
    create(registry, "team-a", owner).delete_by(by=Actor(user=staff_user))
    assert not Organization.objects.exists()
    assert events("organization.deleted")[0][1]["organization"] == "team-a"


# --- manage.py grant_permissions --------------------------------------------------------------


def grant_command(*args: str) -> str:
    out = StringIO()
    call_command("grant_permissions", *args, stdout=out)
    return out.getvalue()


def test_the_command_creates_an_organization_and_grants_every_active_user(
    owner: User, other_user: User, registry: Registry
) -> None:
    make_user("gone", is_active=False)
    output = grant_command(
        "--registry", registry.address, "--organization", "team-a", "--create",
        "--level", "edit", "--all-active-users",
    )  # fmt: skip

    assert "Created organization team-a" in output
    assert "Edit on team-a: granted to 2; 0 already had it or more." in output
    organization = Organization.objects.get(name="team-a")
    assert organization.created_by is None
    grants = Permission.objects.values_list("user__username", "level").order_by("user__username")
    assert list(grants) == [("alice", EDIT), ("bob", EDIT)]
    actors = set(AuditEvent.objects.values_list("actor_username", "channel"))
    assert actors == {("manage.py grant_permissions", "system")}


def test_the_command_run_again_changes_nothing_and_never_lowers_a_level(
    owner: User, other_user: User, registry: Registry
) -> None:
    create(registry, "team-a", owner)  # alice holds Manage
    args = ["--registry", registry.address, "--organization", "team-a", "--level", "3"]
    assert "granted to 1; 1 already had it or more" in grant_command(*args, "--all-active-users")
    before = AuditEvent.objects.count()

    assert "granted to 0; 2 already had it or more" in grant_command(*args, "--all-active-users")
    assert AuditEvent.objects.count() == before
    assert Permission.objects.get(user=owner).level == MANAGE


def test_the_command_grants_groups_users_and_repositories(
    owner: User, other_user: User, registry: Registry
) -> None:
    Group.objects.create(name="devs")
    args = ["--registry", registry.address, "--organization", "team-a", "--create"]
    grant_command(*args, "--level", "read", "--group", "devs", "--user", "bob",
                  "--repository", "team/app")  # fmt: skip
    rows = Permission.objects.values_list("group__name", "user__username", "repository", "level")
    assert sorted(rows, key=str) == sorted(
        [("devs", None, "team/app", READ), (None, "bob", "team/app", READ)], key=str
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--registry", "nowhere.test", "--level", "edit", "--user", "alice"],
         "No registry at 'nowhere.test'"),
        (["--level", "edit", "--user", "alice"],
         "has no organization 'team-a': add --create to create it"),
        (["--level", "write", "--user", "alice", "--create"],
         "--level 'write' is not a level: use read, edit or manage"),
        (["--level", "edit", "--user", "nobody", "--create"], "No active user named nobody"),
        (["--level", "edit", "--group", "nobody", "--create"], "No group named nobody"),
        (["--level", "edit", "--create"], "Name who gets the permission"),
        (["--level", "edit", "--user", "alice", "--create", "--repository", "Bad/Name"],
         "--repository: A repository name is made of parts"),
    ],
)  # fmt: skip
def test_the_command_refuses_bad_input_clearly_and_changes_nothing(
    owner: User, registry: Registry, args: list[str], message: str
) -> None:
    base = ["--registry", registry.address, "--organization", "team-a"]
    if "--registry" in args:
        base = base[2:]
    with pytest.raises(CommandError) as refused:
        grant_command(*base, *args)
    assert message in str(refused.value)
    assert "Nothing was changed." in str(refused.value)
    assert not Organization.objects.exists()
    assert not AuditEvent.objects.exists()


def test_the_command_refuses_an_invalid_organization_name(owner: User, registry: Registry) -> None:
    with pytest.raises(CommandError, match="must start with a lowercase letter"):
        grant_command("--registry", registry.address, "--organization", "1a", "--create",
                      "--level", "edit", "--user", "alice")  # fmt: skip
    assert not Organization.objects.exists()


# --- What migrate says --------------------------------------------------------------------------


def test_migrate_tells_how_many_users_hold_no_permission_and_how_to_grant(
    owner: User, other_user: User, staff_user: User, registry: Registry
) -> None:
    create(registry, "team-a", owner)  # alice holds Manage; sam is a superuser
    out = StringIO()
    call_command("migrate", stdout=out)

    text = out.getvalue()
    assert "1 active user(s) hold no permission" in text
    assert (
        f"python manage.py grant_permissions --registry {registry.address} --organization "
        "<name> --create --level edit --all-active-users" in text
    )


def test_migrate_says_nothing_of_permissions_when_every_user_holds_one(
    owner: User, other_user: User, registry: Registry
) -> None:
    organization = create(registry, "team-a", owner)
    devs = Group.objects.create(name="devs")
    other_user.groups.add(devs)
    organization.grant(level=READ, by=Actor(user=owner), group=devs)
    out = StringIO()
    call_command("migrate", stdout=out)
    assert "No migrations to apply." in out.getvalue()
    assert "permission" not in out.getvalue()


def test_an_organization_named_like_a_uuid_is_found_by_its_name(
    owner: User, registry: Registry
) -> None:
    name = "deadbeef-dead-beef-dead-beefdeadbeef"
    organization = create(registry, name, owner)
    assert Organization.objects.lookup(owner, registry, name) == organization
