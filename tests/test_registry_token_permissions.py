"""What a token grants on each repository a client names: its credential's owner's permission
there (a long-term credential's narrowed as its owner chose), looked up afresh at every token
request, in both flows and with both kinds of credential; a repository it may not use is an
entry with no actions. Real clients against a real registry: test_registry_permissions.py."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from credentials.models import Actor, LongTermCredential, Organization, Registry, User
from credentials.registry import scopes
from credentials.rules import EDIT, MANAGE, READ, REGISTRY_ADMINISTRATORS
from tests.helpers import (
    ask,
    basic,
    login_failures,
    mint_temporary,
    new_credential,
    password_grant,
    permit,
    refresh_grant,
    token_claims,
)
from tests.helpers import oauth_post as post

pytestmark = pytest.mark.usefixtures("token_keys")

SYSTEM = Actor(user=None, channel="system")


@pytest.fixture
def team_a(owner: User, registry: Registry) -> Organization:
    """The owner holds Edit on organization team-a."""
    return permit(registry, "team-a", EDIT, user=owner)


@pytest.fixture
def credential(owner: User, registry: Registry, team_a) -> tuple[LongTermCredential, str]:
    return new_credential(owner, registry, "ci-bot")


def granted(client: Client, credential, registry: Registry, token_keys, *scope: str) -> list:
    """The `access` claim of a GET token for `scope`, with (credential, password)."""
    cred, password = credential
    response = ask(client, basic(cred.username, password), registry.address, *scope)
    assert response.status_code == 200, response.content
    return token_claims(response.json()["token"], token_keys, registry.address)["access"]


def entry(name: str, *actions: str) -> dict:
    return {"type": "repository", "name": name, "actions": list(actions)}


def administrator(user: User) -> User:
    user.groups.add(Group.objects.get_or_create(name=REGISTRY_ADMINISTRATORS)[0])
    return user


# --- Where the owner may, and where not --------------------------------------------------------


def test_a_repository_the_credential_may_not_use_is_an_entry_with_no_actions(
    client: Client, credential, registry: Registry, token_keys
) -> None:
    access = granted(
        client, credential, registry, token_keys,
        "repository:team-a/app:pull,push", "repository:team-b/app:pull", "repository:alpine:pull",
    )  # fmt: skip
    assert access == [
        entry("team-a/app", "pull", "push"),
        entry("team-b/app"),  # another organization
        entry("alpine"),  # outside any organization: registry administrators only
    ]
    assert not login_failures().exists()  # a partial grant is no error


@pytest.mark.parametrize(
    "scope",
    [
        "repository:team-a/../team-b/app:push",  # a path the registry's grammar refuses
        "repository:team-a/./../team-b/app:push",
        "repository:TEAM-B/app:push",
        "repository:team-b%2Fapp:push",
        "repository(plugin):team-b/app:push",
        "repository:team-b/app:push,*",
        "repository:team-a/app:pull repository:team-b/app:push",  # several in one parameter
    ],
)
def test_no_trick_in_a_scope_reaches_an_organization_its_owner_holds_nothing_in(
    client: Client, credential, registry: Registry, token_keys, other_user: User, scope: str
) -> None:
    """Whatever the scope, no entry the registry would match against team-b's repositories
    (Docker's names, compared exactly) carries an action."""
    permit(registry, "team-b", EDIT, user=other_user)
    access = granted(client, credential, registry, token_keys, scope, "repository:team-b/x:pull")
    reached = [item for item in access if item["name"].startswith("team-b/") and item["actions"]]
    assert reached == []
    assert entry("team-b/x") in access


def test_a_read_holder_gets_pull_whatever_it_asks_and_never_push(
    client: Client, other_user: User, registry: Registry, token_keys
) -> None:
    permit(registry, "team-a", READ, user=other_user)
    reader = new_credential(other_user, registry, "reader")
    for asked in ("pull", "push", "pull,push"):
        access = granted(client, reader, registry, token_keys, f"repository:team-a/app:{asked}")
        assert access == [entry("team-a/app", "pull")]


def test_an_edit_holder_asking_only_to_pull_gets_push_too(
    client: Client, credential, registry: Registry, token_keys, settings
) -> None:
    access = granted(client, credential, registry, token_keys, "repository:team-a/app:pull")
    assert access == [entry("team-a/app", "pull", "push")]
    settings.REGISTRY_TOKEN_ACTIONS = ["pull", "push", "delete"]
    asked = granted(client, credential, registry, token_keys, "repository:team-a/app:delete")
    assert asked == [entry("team-a/app", "pull", "push")]  # delete is Manage's


def test_delete_needs_manage_and_the_deployment_to_allow_it(
    client: Client, credential, owner: User, registry: Registry, token_keys, settings
) -> None:
    permit(registry, "team-a/app", MANAGE, user=owner)  # Manage on one repository
    scope = ("repository:team-a/app:delete", "repository:team-a/web:delete")
    assert granted(client, credential, registry, token_keys, *scope) == [
        entry("team-a/app", "pull", "push"),  # REGISTRY_TOKEN_ACTIONS leaves delete out
        entry("team-a/web", "pull", "push"),
    ]
    settings.REGISTRY_TOKEN_ACTIONS = ["pull", "push", "delete"]
    assert granted(client, credential, registry, token_keys, *scope) == [
        entry("team-a/app", "delete", "pull", "push"),
        entry("team-a/web", "pull", "push"),  # Edit there: no delete
    ]


def test_a_group_grant_counts_until_the_user_leaves_the_group(
    client: Client, credential, owner: User, registry: Registry, token_keys
) -> None:
    developers = Group.objects.create(name="developers")
    permit(registry, "team-b", READ, group=developers)
    owner.groups.add(developers)
    scope = "repository:team-b/app:pull"
    assert granted(client, credential, registry, token_keys, scope) == [entry("team-b/app", "pull")]
    owner.groups.remove(developers)
    assert granted(client, credential, registry, token_keys, scope) == [entry("team-b/app")]


def test_a_change_or_revocation_applies_to_the_next_token(
    client: Client, credential, owner: User, registry: Registry, token_keys, team_a
) -> None:
    scope = "repository:team-a/app:push"
    assert granted(client, credential, registry, token_keys, scope) == [
        entry("team-a/app", "pull", "push")
    ]
    team_a.grant(level=READ, by=SYSTEM, user=owner)
    assert granted(client, credential, registry, token_keys, scope) == [entry("team-a/app", "pull")]
    team_a.revoke(by=SYSTEM, user=owner)
    assert granted(client, credential, registry, token_keys, scope) == [entry("team-a/app")]


# --- A long-term credential's narrowing ------------------------------------------------------


def test_a_pull_only_credential_of_an_edit_holder_gets_pull_only(
    client: Client, owner: User, registry: Registry, token_keys, team_a
) -> None:
    pull_only = new_credential(owner, registry, "puller", access="pull")
    access = granted(client, pull_only, registry, token_keys, "repository:team-a/app:pull,push")
    assert access == [entry("team-a/app", "pull")]


def test_a_credential_narrowed_to_one_organization_gets_nothing_in_another_its_owner_may_use(
    client: Client, owner: User, registry: Registry, token_keys, team_a
) -> None:
    permit(registry, "team-b", EDIT, user=owner)
    narrowed = new_credential(owner, registry, "narrowed", organizations=[team_a])
    scope = ("repository:team-a/app:pull", "repository:team-b/app:pull")
    assert granted(client, narrowed, registry, token_keys, *scope) == [
        entry("team-a/app", "pull", "push"),
        entry("team-b/app"),
    ]


# --- Temporary credentials, the OAuth2 flow and refresh tokens --------------------------------


def test_a_temporary_credential_carries_its_owners_permissions(
    client: Client, owner: User, registry: Registry, token_keys, team_a
) -> None:
    temporary = mint_temporary(owner, registry)
    scope = ("repository:team-a/app:pull", "repository:team-b/app:pull")
    assert granted(client, temporary, registry, token_keys, *scope) == [
        entry("team-a/app", "pull", "push"),
        entry("team-b/app"),
    ]
    team_a.revoke(by=SYSTEM, user=owner)
    assert granted(client, temporary, registry, token_keys, *scope) == [
        entry("team-a/app"),
        entry("team-b/app"),
    ]


@pytest.mark.parametrize("kind", ["long-term", "temporary"])
def test_the_password_and_refresh_grants_name_only_what_they_granted(
    kind: str, credential, owner: User, registry: Registry, token_keys, team_a
) -> None:
    client = Client(enforce_csrf_checks=True)
    cred, password = credential if kind == "long-term" else mint_temporary(owner, registry)
    scope = "repository:team-a/app:pull repository:team-b/app:pull"
    answer = post(client, password_grant(cred, password, registry.address, scope=scope,
                                         access_type="offline"))  # fmt: skip
    assert answer.status_code == 200, answer.content
    assert answer.json()["scope"] == "repository:team-a/app:pull,push"
    claims = token_claims(answer.json()["access_token"], token_keys, registry.address)
    assert claims["access"] == [entry("team-a/app", "pull", "push"), entry("team-b/app")]

    refresh_token = answer.json()["refresh_token"]
    team_a.grant(level=READ, by=SYSTEM, user=owner)  # the refresh grant sees it at once
    refreshed = post(client, refresh_grant(refresh_token, registry.address, scope=scope))
    assert refreshed.status_code == 200, refreshed.content
    assert refreshed.json()["scope"] == "repository:team-a/app:pull"
    claims = token_claims(refreshed.json()["access_token"], token_keys, registry.address)
    assert claims["access"] == [entry("team-a/app", "pull"), entry("team-b/app")]


# --- The catalog -------------------------------------------------------------------------------


def test_the_catalog_is_granted_only_to_a_registry_administrators_credential(
    client: Client, credential, owner: User, registry: Registry, token_keys, settings, team_a
) -> None:
    settings.REGISTRY_TOKEN_CATALOG = True
    catalog = {"type": "registry", "name": "catalog", "actions": ["*"]}
    assert granted(client, credential, registry, token_keys, "registry:catalog:*") == []
    administrator(owner)
    assert granted(client, credential, registry, token_keys, "registry:catalog:*") == [catalog]
    pull_only = new_credential(owner, registry, "puller", access="pull")
    assert granted(client, pull_only, registry, token_keys, "registry:catalog:*") == [catalog]
    # Narrowed to some organizations, it may not list the others' images.
    narrowed = new_credential(owner, registry, "narrowed", organizations=[team_a])
    assert granted(client, narrowed, registry, token_keys, "registry:catalog:*") == []
    settings.REGISTRY_TOKEN_CATALOG = False
    assert granted(client, credential, registry, token_keys, "registry:catalog:*") == []


def test_a_registry_administrator_may_push_anywhere_even_outside_any_organization(
    client: Client, staff_user: User, registry: Registry, token_keys
) -> None:
    root = new_credential(staff_user, registry, "root")  # a superuser
    scope = ("repository:alpine:push", "repository:team-b/app:pull")
    assert granted(client, root, registry, token_keys, *scope) == [
        entry("alpine", "pull", "push"),
        entry("team-b/app", "pull", "push"),
    ]


# --- What it costs -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["long-term", "temporary"])
def test_a_token_is_two_queries_however_many_repositories_and_grants_it_names(
    kind: str, client: Client, credential, owner: User, registry: Registry, token_keys
) -> None:
    cred, password = credential if kind == "long-term" else mint_temporary(owner, registry)
    developers = Group.objects.create(name="developers")
    owner.groups.add(developers)
    for number in range(5):
        permit(registry, f"team-{number}", READ, group=developers)
        permit(registry, f"team-{number}/app", EDIT, user=owner)
    auth = basic(cred.username, password)
    ask(client, auth, registry.address)  # records Last Used
    with CaptureQueriesContext(connection) as login:
        assert ask(client, auth, registry.address).status_code == 200
    assert len(login) == 1  # no scope: the credential's lookup alone
    for count in (1, 5):
        asked = [f"repository:team-{n}/app:pull,push" for n in range(count)]
        with CaptureQueriesContext(connection) as queries:
            answer = ask(client, auth, registry.address, *asked, "repository:alpine:pull")
        claims = token_claims(answer.json()["token"], token_keys, registry.address)
        assert claims["access"][:count] == [
            entry(f"team-{n}/app", "pull", "push") for n in range(count)
        ]
        # The credential's lookup, then the permissions' (credentials/models/access.py).
        assert len(queries) == 2, [query["sql"] for query in queries.captured_queries]


def test_a_token_request_looks_up_at_most_a_hundred_repositories(
    client: Client, credential, registry: Registry, token_keys
) -> None:
    asked = [f"repository:team-a/app-{n}:pull" for n in range(scopes.MAX_REPOSITORIES + 20)]
    access = granted(client, credential, registry, token_keys, " ".join(asked), asked[0])
    assert len(access) == scopes.MAX_REPOSITORIES + 1  # the first named again: still looked up
    assert access[-1] == access[0] == entry("team-a/app-0", "pull", "push")
