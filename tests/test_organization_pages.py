"""Organizations in a registry's left pane: the list (the user's organizations with their
level; every one for a registry administrator), Create Organization and Delete, with and
without JavaScript, each refusal a message in both languages that changes nothing."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from credentials.models import Actor, AuditEvent, Organization, Registry, User
from credentials.rules import EDIT, MANAGE, READ, REGISTRY_ADMINISTRATORS
from tests.helpers import basic, client_for, make_user, new_credential, tab_page, token_claims

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def list_url(registry: Registry) -> str:
    return reverse("organizations", args=[registry.public_id])


def create_url(registry: Registry) -> str:
    return reverse("create_organization", args=[registry.public_id])


def delete_url(organization: Organization) -> str:
    return reverse(
        "delete_organization", args=[organization.registry.public_id, organization.public_id]
    )


def organization(registry: Registry, name: str, creator: User) -> Organization:
    return Organization.objects.create_for(registry=registry, name=name, by=Actor(user=creator))


def said(response) -> str:
    """The message an htmx answer announces (console.js shows it in the live region)."""
    return json.loads(response["HX-Trigger"])["consoleMessage"]["text"]


def in_language(client: Client, language: str) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def test_the_registry_pane_links_organizations_and_my_permissions_under_access(
    owner_client: Client, registry: Registry
) -> None:
    page = owner_client.get(reverse("registry_overview", args=[registry.public_id]))
    html = page.content.decode()
    start = html.index('aria-label="Registry"')
    pane = html[start : html.index("</nav>", start)]
    assert pane.index(">Access Credentials<") < pane.index(">Organizations<")
    assert pane.index(">Organizations<") < pane.index(">My Permissions<")
    assert list_url(registry) in pane
    assert reverse("my_permissions", args=[registry.public_id]) in pane


def test_the_list_shows_each_organization_the_user_holds_a_permission_in_with_their_level(
    owner_client: Client, owner: User, other_user: User, registry: Registry
) -> None:
    organization(registry, "team-a", owner)  # Manage: its creator
    team_b = organization(registry, "team-b", other_user)
    devs = Group.objects.create(name="devs")
    owner.groups.add(devs)
    team_b.grant(level=READ, by=Actor(user=other_user), group=devs)
    team_c = organization(registry, "team-c", other_user)
    team_c.grant(level=EDIT, by=Actor(user=other_user), user=owner, repository="app")
    organization(registry, "team-d", other_user)  # none of the owner's business

    html = owner_client.get(list_url(registry)).content.decode()
    rows = {
        name: html[html.index(f">{name}</a>") : html.index("</tr>", html.index(f">{name}</a>"))]
        for name in ("team-a", "team-b", "team-c")
    }
    assert "Manage" in rows["team-a"]
    assert ">Delete</a>" in rows["team-a"]
    assert "Read" in rows["team-b"]
    assert ">Delete</a>" not in rows["team-b"]
    assert "On some repositories" in rows["team-c"]
    assert ">Delete</a>" not in rows["team-c"]
    assert "team-d" not in html
    assert "3 organizations." in html


def test_a_registry_administrator_sees_every_organization_with_manage(
    other_user: User, registry: Registry
) -> None:
    organization(registry, "team-a", other_user)
    admin = make_user("ada")
    admin.groups.add(Group.objects.get_or_create(name=REGISTRY_ADMINISTRATORS)[0])
    html = client_for(admin).get(list_url(registry)).content.decode()
    assert ">team-a</a>" in html
    assert "Manage" in html
    assert ">Delete</a>" in html


def test_search_keeps_the_organizations_whose_name_contains_the_words(
    owner_client: Client, owner: User, registry: Registry
) -> None:
    for name in ("team-a", "team-b", "infra"):
        organization(registry, name, owner)
    html = owner_client.get(list_url(registry) + "?q=team").content.decode()
    assert ">team-a</a>" in html
    assert ">team-b</a>" in html
    assert ">infra</a>" not in html
    html = owner_client.get(list_url(registry) + "?q=nothing-like-it").content.decode()
    assert "No organization matches your search." in html


def test_an_empty_list_says_how_to_get_an_organization(
    owner_client: Client, registry: Registry
) -> None:
    html = owner_client.get(list_url(registry)).content.decode()
    assert "You hold no permission in any organization of this registry yet." in html


def test_the_list_is_get_only(owner_client: Client, registry: Registry) -> None:
    assert owner_client.post(list_url(registry)).status_code == 405


def test_create_organization_opens_its_dialog_with_and_without_javascript(
    owner_client: Client, registry: Registry
) -> None:
    fragment = owner_client.get(create_url(registry), headers=HTMX).content.decode()
    assert fragment.lstrip().startswith('<dialog id="create-organization-dialog"')
    assert "Starts with a lowercase letter" in fragment
    page = owner_client.get(create_url(registry)).content.decode()
    assert '<dialog id="create-organization-dialog"' in page
    assert " open>" in page
    assert "<h1>Organizations</h1>" in page


def test_creating_an_organization_gives_its_creator_manage_and_refreshes_the_list(
    owner_client: Client, owner: User, registry: Registry
) -> None:
    response = owner_client.post(create_url(registry), {"name": "team-a"}, headers=HTMX)
    assert response.status_code == 200
    assert response.content == b""  # the dialog closes
    assert said(response) == (
        "Organization “team-a” is created. You hold the Manage permission on it."
    )
    assert "organizationsChanged" in json.loads(response["HX-Trigger"])
    created = Organization.objects.get(registry=registry, name="team-a")
    assert created.level_of(owner) == MANAGE
    assert AuditEvent.objects.filter(action=AuditEvent.Action.ORGANIZATION_CREATED).count() == 1


def test_creating_without_javascript_ends_on_the_list_with_its_message(
    owner_client: Client, registry: Registry
) -> None:
    response = owner_client.post(create_url(registry), {"name": "team-a"}, follow=True)
    assert response.redirect_chain == [(list_url(registry), 302)]
    html = response.content.decode()
    assert "Organization “team-a” is created." in html
    assert ">team-a</a>" in html


@pytest.mark.parametrize(
    ("language", "name", "message"),
    [
        ("en", "1team", "The organization name must start with a lowercase letter."),
        ("zh-hans", "1team", "组织名称必须以小写字母开头。"),
        ("en", "team--a", "Separators (“.”, “_”, “-”) cannot follow one another"),
        ("en", "Team A", "The name contains “T”, “A”, a space."),
        ("en", "", "Enter an organization name."),
    ],
)
def test_a_name_that_breaks_the_rule_is_refused_with_its_reason_and_nothing_is_created(
    owner_client: Client, registry: Registry, language: str, name: str, message: str
) -> None:
    client = in_language(owner_client, language)
    for headers in (HTMX, {}):
        response = client.post(create_url(registry), {"name": name}, headers=headers)
        assert response.status_code == 422
        html = response.content.decode()
        assert message in html
        assert 'aria-invalid="true"' in html
    assert not Organization.objects.exists()


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "This registry already has an organization named “team-a”."),
        ("zh-hans", "此镜像仓库已有名为“team-a”的组织。"),
    ],
)
def test_a_taken_name_is_refused_in_both_languages_and_nothing_changes(
    owner_client: Client,
    owner: User,
    other_user: User,
    registry: Registry,
    language: str,
    message: str,
) -> None:
    organization(registry, "team-a", other_user)
    before = AuditEvent.objects.count()
    client = in_language(owner_client, language)
    response = client.post(create_url(registry), {"name": "team-a"}, headers=HTMX)
    assert response.status_code == 409
    assert message in response.content.decode()
    assert Organization.objects.count() == 1
    assert AuditEvent.objects.count() == before
    assert Organization.objects.get().level_of(owner) == 0


@pytest.mark.parametrize(
    ("language", "message"),
    [
        (
            "en",
            "An organization named “team-a” was deleted from this registry and its images may "
            "still be there: only a registry administrator can create it again.",
        ),
        (
            "zh-hans",
            "此镜像仓库中名为“team-a”的组织已被删除，其镜像可能仍在：只有镜像仓库管理员可以重新创建它。",
        ),
    ],
)
def test_a_deleted_organizations_name_is_created_again_by_an_administrator_only(
    owner: User,
    other_user: User,
    staff_user: User,
    registry: Registry,
    token_keys,
    language: str,
    message: str,
) -> None:
    """Its images stay in the registry: whoever created it again would hold Manage on them."""
    organization(registry, "team-a", owner).delete_by(by=Actor(user=owner))
    credential, password = new_credential(other_user, registry, "ci")
    clients = [in_language(client_for(user), language) for user in (other_user, owner)]
    before = AuditEvent.objects.count()
    for client in clients:  # anyone, the one who deleted it too
        for headers in (HTMX, {}):
            response = client.post(create_url(registry), {"name": "team-a"}, headers=headers)
            assert response.status_code == 422
            assert message in response.content.decode()
    assert not Organization.objects.exists()
    assert AuditEvent.objects.count() == before
    token = Client().get(
        "/service/token",
        {"service": registry.address, "scope": "repository:team-a/app:pull,push"},
        headers={"Authorization": basic(credential.username, password)},
    )
    access = token_claims(token.json()["token"], token_keys, registry.address)["access"]
    assert access == [{"type": "repository", "name": "team-a/app", "actions": []}]

    response = client_for(staff_user).post(create_url(registry), {"name": "team-a"})
    assert response.status_code == 302
    assert Organization.objects.get().level_of(other_user) == 0


def test_delete_asks_first_naming_what_goes_and_what_stays(
    owner_client: Client, owner: User, other_user: User, registry: Registry
) -> None:
    team = organization(registry, "team-a", owner)
    team.grant(level=READ, by=Actor(user=owner), user=other_user)
    fragment = owner_client.get(delete_url(team), headers=HTMX).content.decode()
    assert "Delete organization <strong>team-a</strong> and its 2 permissions?" in fragment
    assert "Its images stay in the registry" in fragment
    page = owner_client.get(delete_url(team))
    assert page.status_code == 200
    assert '<dialog id="delete-organization-dialog"' in page.content.decode()
    assert Organization.objects.filter(pk=team.pk).exists()


def test_a_manage_holder_deletes_an_organization_with_and_without_javascript(
    owner_client: Client, owner: User, registry: Registry
) -> None:
    team_a, team_b = (
        organization(registry, "team-a", owner),
        organization(registry, "team-b", owner),
    )
    response = owner_client.post(delete_url(team_a), headers=HTMX)
    assert response.status_code == 200
    assert response.content == b""
    assert said(response) == "Organization “team-a” is deleted."
    assert "organizationsChanged" in json.loads(response["HX-Trigger"])
    response = owner_client.post(delete_url(team_b), follow=True)
    assert response.redirect_chain == [(list_url(registry), 302)]
    assert "Organization “team-b” is deleted." in response.content.decode()
    assert not Organization.objects.exists()


def test_deleting_from_the_organizations_own_page_goes_back_to_the_list(
    owner_client: Client, owner: User, registry: Registry
) -> None:
    team = organization(registry, "team-a", owner)
    response = owner_client.post(delete_url(team), {"from": "organization"}, headers=HTMX)
    assert response["HX-Redirect"] == list_url(registry)
    assert (
        "Organization “team-a” is deleted." in owner_client.get(list_url(registry)).content.decode()
    )


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "You need the Manage permission on organization “team-a” to do this."),
        ("zh-hans", "您需要组织“team-a”的管理权限才能执行此操作。"),
    ],
)
def test_a_read_holder_is_told_why_they_cannot_delete_and_nothing_changes(
    owner: User, other_user: User, registry: Registry, language: str, message: str
) -> None:
    team = organization(registry, "team-a", owner)
    team.grant(level=EDIT, by=Actor(user=owner), user=other_user)
    client = in_language(client_for(other_user), language)
    asked = client.get(delete_url(team), headers=HTMX)
    assert asked.status_code == 403
    assert message in asked.content.decode()
    for headers in (HTMX, {}):
        response = client.post(delete_url(team), headers=headers)
        assert response.status_code == 403
        assert message in response.content.decode()
    assert Organization.objects.filter(pk=team.pk).exists()
    assert team.permissions.count() == 2


def test_an_organization_the_user_cannot_see_or_of_another_registry_is_a_404(
    owner_client: Client, owner: User, other_user: User, registry: Registry, other_registry
) -> None:
    hidden = organization(registry, "team-a", other_user)
    mine = organization(other_registry, "team-b", owner)
    assert owner_client.get(delete_url(hidden)).status_code == 404
    assert owner_client.post(delete_url(hidden)).status_code == 404
    wrong_registry = reverse("delete_organization", args=[registry.public_id, mine.public_id])
    assert owner_client.post(wrong_registry).status_code == 404
    assert Organization.objects.count() == 2


def test_an_organization_named_like_another_ones_public_id_does_not_take_over_its_address(
    owner: User, other_user: User, registry: Registry
) -> None:
    """Bob names his organization after team-a's public id (its pages' addresses show it)
    and gives alice Manage there: team-a's address still opens, and deletes, team-a."""
    team = organization(registry, "team-a", owner)
    Organization.objects.filter(pk=team.pk).update(public_id="abcdef01-2345-6789-abcd-ef0123456789")
    team.refresh_from_db()
    decoy = organization(registry, str(team.public_id), other_user)
    decoy.grant(level=MANAGE, by=Actor(user=other_user), user=owner)
    client = client_for(owner)
    users = reverse("organization_users", args=[registry.public_id, team.public_id])
    assert "<h1>team-a</h1>" in client.get(users).content.decode()
    assert client.post(delete_url(team)).status_code == 302
    assert list(Organization.objects.values_list("name", flat=True)) == [decoy.name]


def test_deleting_an_organization_drops_it_from_the_credentials_shown_on_the_cached_tab(
    owner_client: Client, owner: User, registry: Registry
) -> None:
    team_a, team_b = (
        organization(registry, "team-a", owner),
        organization(registry, "team-b", owner),
    )
    new_credential(owner, registry, "ci", organizations=[team_a, team_b])
    assert "Same as mine · team-a, team-b" in tab_page(owner_client, registry)  # now cached
    owner_client.post(delete_url(team_a), headers=HTMX)
    assert "Same as mine · team-b" in tab_page(owner_client, registry)
