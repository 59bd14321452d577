"""My Permissions: where I may pull, push and delete in a registry (my own grants and my
groups', the highest that applies; everything for a registry administrator), and what each
of my long-term credentials may do there, its narrowing applied — the same answer the token
service gives."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from credentials.models import (
    Actor,
    Organization,
    Registry,
    User,
    credential_access,
)
from credentials.rules import ACCESS_PULL, EDIT, MANAGE, READ, REGISTRY_ADMINISTRATORS
from tests.helpers import client_for, make_user, new_credential

pytestmark = pytest.mark.django_db


def page_url(registry: Registry) -> str:
    return reverse("my_permissions", args=[registry.public_id])


def rows(html: str, caption: str) -> list[list[str]]:
    """The cells' text of each body row of the table with `caption`."""
    table = html[html.index(caption) :]
    body = table[table.index("<tbody") : table.index("</tbody>")]
    return [
        [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells]
        for cells in (
            re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
        )
    ]


@pytest.fixture
def world(owner: User, other_user: User, registry: Registry) -> dict[str, Organization]:
    """alice: Manage on team-a (its creator); Read on team-b through group devs, and Edit
    on team-b/app herself; nothing on team-c."""
    team_a = Organization.objects.create_for(registry=registry, name="team-a", by=Actor(owner))
    team_b = Organization.objects.create_for(registry=registry, name="team-b", by=Actor(other_user))
    team_c = Organization.objects.create_for(registry=registry, name="team-c", by=Actor(other_user))
    devs = Group.objects.create(name="devs")
    owner.groups.add(devs)
    team_b.grant(level=READ, by=Actor(other_user), group=devs)
    team_b.grant(level=EDIT, by=Actor(other_user), user=owner, repository="app")
    return {"team-a": team_a, "team-b": team_b, "team-c": team_c}


def test_it_lists_where_i_hold_a_permission_with_its_level_actions_and_whose_grant(
    owner_client: Client, registry: Registry, world: dict
) -> None:
    html = owner_client.get(page_url(registry)).content.decode()
    assert rows(html, "Where you hold a permission") == [
        ["team-a", "Manage", "pull, push, delete", "you (Manage)"],
        ["team-b", "Read", "pull", "group “devs” (Read)"],
        [
            "team-b/app",
            "Edit",
            "pull, push",
            "you (Edit), group “devs” (Read, on the whole organization)",
        ],
    ]
    assert "team-c" not in html


def test_each_long_term_credential_shows_what_it_may_do_with_its_narrowing(
    owner_client: Client, owner: User, registry: Registry, world: dict
) -> None:
    new_credential(owner, registry, "a-everything")
    new_credential(owner, registry, "b-pull", access=ACCESS_PULL)
    new_credential(owner, registry, "c-team-b", organizations=[world["team-b"]])
    new_credential(owner, registry, "d-team-c", organizations=[world["team-c"]])
    html = owner_client.get(page_url(registry)).content.decode()
    assert rows(html, "Your long-term credentials and where each may pull and push") == [
        [
            "a-everything",
            "Same as mine · All organizations",
            "team-a: pull, push, delete team-b: pull team-b/app: pull, push",
        ],
        ["b-pull", "Pull only · All organizations", "team-a: pull team-b: pull team-b/app: pull"],
        ["c-team-b", "Same as mine · team-b", "team-b: pull team-b/app: pull, push"],
        ["d-team-c", "Same as mine · team-c", "Nothing: neither pull nor push anywhere"],
    ]


def test_what_it_shows_is_what_the_token_service_grants(
    owner_client: Client, owner: User, registry: Registry, world: dict
) -> None:
    credentials = [
        new_credential(owner, registry, "pull", access=ACCESS_PULL)[0],
        new_credential(owner, registry, "team-b", organizations=[world["team-b"]])[0],
    ]
    html = owner_client.get(page_url(registry)).content.decode()
    shown = {row[0]: row[2] for row in rows(html, "Your long-term credentials and where each")}
    # Where each row of the page stands, as a repository the token service is asked about:
    # team-b/other has only the organization's grants, team-b/app its own as well.
    places = {"team-a": "team-a/x", "team-b": "team-b/other", "team-b/app": "team-b/app"}
    words = {READ: "pull", EDIT: "pull, push", MANAGE: "pull, push, delete"}
    for credential in credentials:
        access = credential_access(credential, [*places.values(), "team-c/x"])
        assert access.levels["team-c/x"] == 0
        expected = [
            f"{where}: {words[access.levels[repository]]}"
            for where, repository in places.items()
            if access.levels[repository]
        ]
        assert shown[credential.name] == " ".join(expected), credential.name


def test_a_registry_administrator_is_told_they_may_do_everything(
    registry: Registry, world: dict
) -> None:
    admin = make_user("ada")
    admin.groups.add(Group.objects.get_or_create(name=REGISTRY_ADMINISTRATORS)[0])
    new_credential(admin, registry, "all")
    new_credential(admin, registry, "pull", access=ACCESS_PULL)
    new_credential(admin, registry, "team-c", organizations=[world["team-c"]])
    html = client_for(admin).get(page_url(registry)).content.decode()
    assert "You are a registry administrator: you hold Manage (pull, push, delete)" in html
    assert rows(html, "Your long-term credentials and where each may pull and push") == [
        ["all", "Same as mine · All organizations", "Everywhere: pull, push, delete"],
        ["pull", "Pull only · All organizations", "Everywhere: pull"],
        ["team-c", "Same as mine · team-c", "team-c: pull, push, delete"],
    ]


def test_a_disabled_credential_says_so_beside_what_it_would_do(
    owner_client: Client, owner: User, registry: Registry, world: dict
) -> None:
    credential, _ = new_credential(owner, registry, "stopped")
    credential.disable(by=Actor(owner))
    html = owner_client.get(page_url(registry)).content.decode()
    [row] = rows(html, "Your long-term credentials and where each may pull and push")
    assert row[0] == "stopped Disabled"


def test_with_nothing_yet_it_says_how_to_get_permissions_and_credentials(
    owner_client: Client, registry: Registry
) -> None:
    html = owner_client.get(page_url(registry)).content.decode()
    assert "You hold no permission in this registry yet" in html
    assert reverse("organizations", args=[registry.public_id]) in html
    assert "You have no long-term credentials for this registry." in html


def test_it_reads_in_chinese(owner_client: Client, registry: Registry, world: dict) -> None:
    owner_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    html = owner_client.get(page_url(registry)).content.decode()
    assert "<h1>我的权限</h1>" in html
    assert rows(html, "您拥有权限的位置")[0] == [
        "team-a",
        "管理",
        "拉取、推送、删除",
        "您本人（管理）",
    ]


def test_it_is_a_page_to_read_only(owner_client: Client, registry: Registry) -> None:
    assert owner_client.post(page_url(registry)).status_code == 405
