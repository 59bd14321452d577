"""Who may push and pull where, as real clients see it: Debian's docker-registry trusts the
console's tokens, skopeo pushes and pulls with long-term and temporary credentials, and each
permission (Read, Edit, Manage; a user's or a group's; a credential's narrowing) shows as
the registry's answer. The other clients (podman, containerd, ORAS) have theirs beside their
own tests. One registry serves the whole module; each test names its own repositories."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from django.contrib.auth.models import Group

from credentials.models import Actor, Registry, User
from credentials.rules import EDIT, READ, REGISTRY_ADMINISTRATORS
from tests.helpers import client_for, make_user, new_credential, permit, token_claims
from tests.registry import (
    Skopeo,
    assert_denied,
    assert_ok,
    build_oci_image,
    generate_temporary,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def registry(module_registry_in_console: Registry) -> Registry:
    return module_registry_in_console


@pytest.fixture
def image(tmp_path: Path) -> Path:
    """A one-layer OCI image to push."""
    layout = tmp_path / "image"
    build_oci_image(layout)
    return layout


def skopeo_for(user: User, registry: Registry, directory: Path, **narrowing: object) -> Skopeo:
    """skopeo logged in with a new long-term credential of `user` (narrowed as asked), its
    files in `directory`."""
    directory.mkdir(exist_ok=True)
    credential, password = new_credential(user, registry, f"ci-{directory.name}", **narrowing)
    skopeo = Skopeo(directory)
    assert_ok(skopeo.login(registry.address, credential.username, password))
    return skopeo


def test_an_edit_holder_pushes_in_their_organization_and_is_denied_in_another(
    registry: Registry, owner: User, image: Path, tmp_path: Path
) -> None:
    permit(registry, "team-a", EDIT, user=owner)
    skopeo = skopeo_for(owner, registry, tmp_path)
    assert_ok(skopeo.push(image, f"{registry.address}/team-a/edit:v1"))
    assert_denied(skopeo.push(image, f"{registry.address}/team-b/edit:v1"))


def test_a_read_holder_pulls_but_cannot_push(
    registry: Registry, owner: User, other_user: User, image: Path, tmp_path: Path
) -> None:
    permit(registry, "team-a", EDIT, user=other_user)
    permit(registry, "team-a", READ, user=owner)
    reference = f"{registry.address}/team-a/read:v1"
    assert_ok(skopeo_for(other_user, registry, tmp_path / "writer").push(image, reference))

    reader = skopeo_for(owner, registry, tmp_path / "reader")
    assert_ok(reader.pull(reference, tmp_path / "pulled"))
    assert_denied(reader.push(image, reference))


def test_a_pull_only_credential_of_an_edit_holder_cannot_push(
    registry: Registry, owner: User, image: Path, tmp_path: Path
) -> None:
    permit(registry, "team-a", EDIT, user=owner)
    reference = f"{registry.address}/team-a/pull-only:v1"
    assert_ok(skopeo_for(owner, registry, tmp_path / "inherit").push(image, reference))

    pull_only = skopeo_for(owner, registry, tmp_path / "pull", access="pull")
    assert_ok(pull_only.pull(reference, tmp_path / "pulled"))
    assert_denied(pull_only.push(image, reference))


def test_a_credential_narrowed_to_one_organization_cannot_pull_another_its_owner_may(
    registry: Registry, owner: User, image: Path, tmp_path: Path
) -> None:
    team_a = permit(registry, "team-a", EDIT, user=owner)
    permit(registry, "team-b", EDIT, user=owner)
    elsewhere = f"{registry.address}/team-b/narrowed:v1"
    assert_ok(skopeo_for(owner, registry, tmp_path / "inherit").push(image, elsewhere))

    narrowed = skopeo_for(owner, registry, tmp_path / "narrowed", organizations=[team_a])
    assert_ok(narrowed.push(image, f"{registry.address}/team-a/narrowed:v1"))
    assert_denied(narrowed.pull(elsewhere, tmp_path / "pulled"))


def test_a_revoked_permission_fails_the_next_token(
    registry: Registry, owner: User, image: Path, tmp_path: Path
) -> None:
    team_a = permit(registry, "team-a", EDIT, user=owner)
    reference = f"{registry.address}/team-a/revoked:v1"
    skopeo = skopeo_for(owner, registry, tmp_path)
    assert_ok(skopeo.push(image, reference))

    team_a.revoke(by=Actor(user=None, channel="system"), user=owner)
    assert_denied(skopeo.pull(reference, tmp_path / "pulled"))
    assert_denied(skopeo.push(image, reference))


def test_a_group_grant_works_until_the_user_leaves_the_group(
    registry: Registry, owner: User, image: Path, tmp_path: Path
) -> None:
    developers = Group.objects.create(name="developers")
    permit(registry, "team-a", EDIT, group=developers)
    owner.groups.add(developers)
    reference = f"{registry.address}/team-a/group:v1"
    skopeo = skopeo_for(owner, registry, tmp_path)
    assert_ok(skopeo.push(image, reference))

    owner.groups.remove(developers)
    assert_denied(skopeo.push(image, reference))


def test_a_temporary_credential_follows_its_owners_permissions(
    registry: Registry, owner: User, image: Path, tmp_path: Path
) -> None:
    team_a = permit(registry, "team-a", EDIT, user=owner)
    username, password = generate_temporary(client_for(owner), registry, "image")
    skopeo = Skopeo(tmp_path)
    assert_ok(skopeo.login(registry.address, username, password))
    reference = f"{registry.address}/team-a/temporary:v1"
    assert_ok(skopeo.push(image, reference))
    assert_denied(skopeo.push(image, f"{registry.address}/team-b/temporary:v1"))

    team_a.grant(level=READ, by=Actor(user=None, channel="system"), user=owner)
    assert_ok(skopeo.pull(reference, tmp_path / "pulled"))
    assert_denied(skopeo.push(image, reference))


@pytest.mark.parametrize("administrator", ["superuser", "group member"])
def test_a_registry_administrator_pushes_anywhere(
    administrator: str, registry: Registry, image: Path, tmp_path: Path
) -> None:
    user = make_user("root", is_superuser=administrator == "superuser")
    if administrator == "group member":
        user.groups.add(Group.objects.get_or_create(name=REGISTRY_ADMINISTRATORS)[0])
    permit(registry, "team-b", EDIT, user=make_user("bob"))  # someone else's organization
    skopeo = skopeo_for(user, registry, tmp_path)
    assert_ok(skopeo.push(image, f"{registry.address}/team-b/admin:v1"))
    assert_ok(skopeo.push(image, f"{registry.address}/admin:v1"))  # outside any organization


def test_one_token_naming_an_allowed_and_a_forbidden_repository_grants_exactly_the_allowed(
    registry: Registry, owner: User, live_server, module_docker_registry
) -> None:
    permit(registry, "team-a", READ, user=owner)
    credential, password = new_credential(owner, registry, "ci-bot")
    answer = requests.get(
        f"{live_server.url}/service/token",
        params={
            "service": registry.address,
            "scope": ["repository:team-a/mixed:pull,push", "repository:team-b/mixed:pull"],
        },
        auth=(credential.username, password),
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    token = answer.json()["token"]
    _, keys = module_docker_registry
    assert token_claims(token, keys, registry.address)["access"] == [
        {"type": "repository", "name": "team-a/mixed", "actions": ["pull"]},
        {"type": "repository", "name": "team-b/mixed", "actions": []},
    ]

    def tags(repository: str) -> requests.Response:
        url = f"http://{registry.address}/v2/{repository}/tags/list"
        return requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=30)

    assert tags("team-a/mixed").status_code == 404  # past the registry's check: no such image yet
    refused = tags("team-b/mixed")
    assert refused.status_code == 401
    assert 'error="insufficient_scope"' in refused.headers["WWW-Authenticate"]
