"""podman and buildah against docker-registry, with the console as its token realm: login,
push and pull with vfs storage and an authfile of their own, with a long-term and a temporary
credential."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from credentials.models import Registry, User
from credentials.rules import EDIT, REGISTRY_ADMINISTRATORS
from tests.helpers import client_for, permit
from tests.registry import (
    Podman,
    assert_denied,
    assert_ok,
    assert_unauthorized,
    build_oci_image,
    create_long_term,
    generate_temporary,
    operate,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TOOLS = ["podman", "buildah"]


@pytest.fixture(autouse=True)
def _owner_may_push_in_team(registry_in_console: Registry, owner: User) -> None:
    """The owner holds Edit on organization `team`, where these tests push."""
    permit(registry_in_console, "team", EDIT, user=owner)


@pytest.fixture
def workdir() -> Iterator[Path]:
    # containers/image names an `oci:` image after its directory's path, which must be a valid
    # image name (lower case, no `_` at the end of a component): not pytest's tmp_path (it
    # carries the test's name), nor mkdtemp's (its random part may end with `_`).
    directory = Path("/tmp") / f"containers-{secrets.token_hex(6)}"
    directory.mkdir()
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)  # vfs layers are plain directories


@pytest.mark.parametrize("tool", TOOLS)
def test_a_long_term_credential_logs_in_pushes_and_pulls_until_disabled(
    tool: str,
    registry_in_console: Registry,
    owner: User,
    workdir: Path,
) -> None:
    console = client_for(owner)
    username, password = create_long_term(console, registry_in_console, "builder")
    client = Podman(tool, workdir)
    host = registry_in_console.address
    reference = client.login_push_and_pull(host, username, password, f"team/{tool}")

    operate(console, registry_in_console, "disable", username)
    assert_unauthorized(client.push(reference))
    client.remove(reference)
    assert_unauthorized(client.pull(reference))
    assert_unauthorized(client.login(host, username, password))

    operate(console, registry_in_console, "enable", username)
    assert_ok(client.login(host, username, password))
    assert_ok(client.pull(reference))


@pytest.mark.parametrize("tool", TOOLS)
def test_a_temporary_credential_logs_in_pushes_and_pulls(
    tool: str,
    registry_in_console: Registry,
    owner: User,
    workdir: Path,
) -> None:
    username, password = generate_temporary(client_for(owner), registry_in_console, "image")
    client = Podman(tool, workdir)
    client.login_push_and_pull(registry_in_console.address, username, password, f"team/{tool}-temp")


def test_podman_search_lists_the_registry_only_when_the_catalog_is_allowed(
    registry_in_console: Registry,
    owner: User,
    workdir: Path,
    settings,
) -> None:
    # The catalog lists every organization's images: only a registry administrator's.
    owner.groups.add(Group.objects.get_or_create(name=REGISTRY_ADMINISTRATORS)[0])
    username, password = create_long_term(client_for(owner), registry_in_console, "search")
    client = Podman("podman", workdir)
    host = registry_in_console.address
    client.login_push_and_pull(host, username, password, "team/findme")
    search = ("search", "--tls-verify=false", "--authfile", str(client.authfile), f"{host}/")

    refused = client.run(*search)
    assert refused.returncode != 0
    assert "unauthorized" in refused.stderr.lower() or "denied" in refused.stderr.lower(), (
        refused.stderr
    )
    settings.REGISTRY_TOKEN_CATALOG = True
    found = client.run(*search)
    assert_ok(found)
    assert f"{host}/team/findme" in found.stdout


def test_podman_pushes_in_its_owners_organization_and_is_denied_in_another(
    registry_in_console: Registry, owner: User, workdir: Path
) -> None:
    username, password = create_long_term(client_for(owner), registry_in_console, "builder")
    client = Podman("podman", workdir)
    host = registry_in_console.address
    layout = workdir / "image"
    build_oci_image(layout)
    client.import_image(layout, f"{host}/team/app:v1")
    assert_ok(client.run("tag", f"{host}/team/app:v1", f"{host}/team-b/app:v1"))
    assert_ok(client.login(host, username, password))
    assert_ok(client.push(f"{host}/team/app:v1"))
    assert_denied(client.push(f"{host}/team-b/app:v1"))
