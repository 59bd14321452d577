"""A long-term credential's access in the console: the create dialog's Access (Same as my
permissions, Pull only) and Organizations (All, or a chosen list of those where the owner
holds a permission), and the list saying what each credential reaches; the CSV unchanged."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from credentials.models import Actor, LongTermCredential, Organization, Registry, User
from credentials.rules import ACCESS_INHERIT, ACCESS_PULL, READ
from tests.helpers import LONG_TERM_CSV_HEADER_LINE, create_url, new_credential, tab_page

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def organization(registry: Registry, name: str, creator: User) -> Organization:
    return Organization.objects.create_for(registry=registry, name=name, by=Actor(user=creator))


def test_the_dialog_offers_access_and_the_organizations_where_the_owner_holds_a_permission(
    owner_client: Client, owner: User, other_user: User, registry: Registry, other_registry
) -> None:
    organization(registry, "team-a", owner)
    shared = organization(registry, "team-b", other_user)
    shared.grant(level=READ, by=Actor(user=other_user), user=owner, repository="app")
    organization(registry, "team-c", other_user)  # the owner holds nothing there
    organization(other_registry, "elsewhere", owner)
    html = owner_client.get(create_url(registry), headers=HTMX).content.decode()
    assert 'name="access" value="inherit" id="id_access_0" checked' in html
    assert ">Same as my permissions<" in html
    assert ">Pull only<" in html
    assert 'name="scope" value="all" id="id_scope_0" checked' in html
    offered = html[
        html.index("data-scope-list") : html.index("</div>", html.index("data-scope-list"))
    ]
    assert 'value="team-a"' in offered
    assert 'value="team-b"' in offered
    assert "team-c" not in offered
    assert "elsewhere" not in offered


def test_without_any_organization_the_dialog_says_what_the_credential_can_do(
    owner_client: Client, registry: Registry
) -> None:
    html = owner_client.get(create_url(registry), headers=HTMX).content.decode()
    assert "You hold no permission in any organization of this registry yet" in html
    assert 'name="scope"' not in html


def test_a_pull_only_credential_narrowed_to_chosen_organizations_is_created_and_listed(
    owner_client: Client, owner: User, registry: Registry
) -> None:
    team_a, team_b = (
        organization(registry, "team-a", owner),
        organization(registry, "team-b", owner),
    )
    organization(registry, "team-c", owner)
    fields = {
        "name": "ci",
        "access": "pull",
        "scope": "chosen",
        "organizations": ["team-b", "team-a"],
    }
    response = owner_client.post(create_url(registry), fields, headers=HTMX)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.decode().splitlines()[0] == LONG_TERM_CSV_HEADER_LINE
    credential = LongTermCredential.objects.get()
    assert credential.access == ACCESS_PULL
    assert not credential.all_organizations
    assert set(credential.organizations.all()) == {team_a, team_b}
    assert "Pull only · team-a, team-b" in tab_page(owner_client, registry)


def test_a_credential_left_at_the_defaults_has_its_owners_permissions_everywhere(
    owner_client: Client, owner: User, registry: Registry
) -> None:
    organization(registry, "team-a", owner)
    # The list of organizations is ignored unless "Only the organizations I choose" is.
    fields = {"name": "ci", "access": "inherit", "scope": "all", "organizations": ["team-a"]}
    assert owner_client.post(create_url(registry), fields).status_code == 200
    credential = LongTermCredential.objects.get()
    assert (credential.access, credential.all_organizations) == (ACCESS_INHERIT, True)
    assert not credential.organizations.exists()
    assert "Same as mine · All organizations" in tab_page(owner_client, registry)


def test_a_script_posting_only_a_name_gets_its_owners_permissions(
    owner_client: Client, registry: Registry
) -> None:
    assert owner_client.post(create_url(registry), {"name": "ci"}).status_code == 200
    credential = LongTermCredential.objects.get()
    assert (credential.access, credential.all_organizations) == (ACCESS_INHERIT, True)


@pytest.mark.parametrize(
    ("language", "fields", "message"),
    [
        ("en", {"scope": "chosen"}, "Choose at least one organization, or choose All."),
        ("zh-hans", {"scope": "chosen"}, "请至少选择一个组织，或选择“全部组织”。"),
        (
            "en",
            {"scope": "chosen", "organizations": "team-z"},
            "Choose organizations from the list.",
        ),
        (
            "zh-hans",
            {"scope": "chosen", "organizations": "team-z"},
            "请从列表中选择组织。",
        ),
        ("en", {"access": "push"}, "Choose one of the accesses offered."),
        ("zh-hans", {"access": "push"}, "请选择提供的访问权限之一。"),
        ("en", {"scope": "some"}, "Choose All or the organizations you want."),
    ],
)
def test_a_bad_choice_is_refused_in_both_languages_and_nothing_is_created(
    owner_client: Client,
    owner: User,
    other_user: User,
    registry: Registry,
    language: str,
    fields: dict,
    message: str,
) -> None:
    organization(registry, "team-a", owner)
    organization(registry, "team-z", other_user)  # exists, but the owner holds nothing there
    owner_client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    for headers in (HTMX, {}):
        response = owner_client.post(create_url(registry), {"name": "ci"} | fields, headers=headers)
        assert response.status_code == 422
        assert message in response.content.decode()
    assert not LongTermCredential.objects.exists()


def test_an_organization_deleted_since_creation_leaves_a_narrowed_credential_no_organization(
    owner_client: Client, owner: User, registry: Registry
) -> None:
    team = organization(registry, "team-a", owner)
    new_credential(owner, registry, "ci", access=ACCESS_PULL, organizations=[team])
    team.delete_by(by=Actor(user=owner))
    assert "Pull only · No organization" in tab_page(owner_client, registry)
