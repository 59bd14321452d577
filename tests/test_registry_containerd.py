"""containerd — what pulls on every Kubernetes node — against docker-registry, with the console
as its token realm: `ctr` logs in with `--user` (the OAuth2 password grant, POST /service/token)
to push and pull, with a long-term and a temporary credential."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from credentials.models import Registry, User
from credentials.rules import EDIT
from tests.helpers import client_for, permit
from tests.registry import (
    Containerd,
    assert_denied,
    assert_ok,
    assert_unauthorized,
    create_long_term,
    generate_temporary,
    operate,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _owner_may_push_in_team(registry_in_console: Registry, owner: User) -> None:
    """The owner holds Edit on organization `team`, where these tests push."""
    permit(registry_in_console, "team", EDIT, user=owner)


@pytest.fixture(scope="module")
def containerd() -> Iterator[Containerd]:
    # Not under pytest's tmp_path: a Unix socket's path must stay short.
    with tempfile.TemporaryDirectory(prefix="ctrd-") as directory:
        daemon = Containerd(Path(directory))
        daemon.start()
        try:
            yield daemon
        finally:
            daemon.stop()


def test_a_long_term_credential_pushes_and_pulls_until_disabled(
    containerd: Containerd,
    registry_in_console: Registry,
    owner: User,
    tmp_path: Path,
) -> None:
    console = client_for(owner)
    username, password = create_long_term(console, registry_in_console, "k8s-node")
    reference = f"{registry_in_console.address}/team/ctr:latest"
    digest = containerd.new_image(reference, tmp_path)

    containerd.push_and_pull(reference, username, password)
    assert digest in containerd.ctr("images", "list").stdout

    operate(console, registry_in_console, "disable", username)
    assert_unauthorized(containerd.push(reference, username, password))
    containerd.remove(reference)
    assert_unauthorized(containerd.pull(reference, username, password))

    operate(console, registry_in_console, "enable", username)
    assert_ok(containerd.pull(reference, username, password))
    containerd.remove(reference)


def test_a_refresh_token_pulls_until_its_credential_is_disabled(
    containerd: Containerd,
    registry_in_console: Registry,
    owner: User,
    live_server,
    tmp_path: Path,
) -> None:
    console = client_for(owner)
    username, password = create_long_term(console, registry_in_console, "k8s-node")
    reference = f"{registry_in_console.address}/team/ctr-refresh:latest"
    containerd.new_image(reference, tmp_path)
    assert_ok(containerd.push(reference, username, password))
    containerd.remove(reference)
    # Offline access, as containerd asks for it (the password grant with access_type=offline).
    granted = requests.post(
        f"{live_server.url}/service/token",
        data={
            "grant_type": "password",
            "client_id": "containerd-client",
            "access_type": "offline",
            "username": username,
            "password": password,
            "service": registry_in_console.address,
        },
        timeout=30,
    )
    assert granted.status_code == 200, granted.text
    refresh_token = granted.json()["refresh_token"]

    assert_ok(containerd.pull_with_refresh_token(reference, refresh_token))
    containerd.remove(reference)
    operate(console, registry_in_console, "disable", username)
    assert_unauthorized(containerd.pull_with_refresh_token(reference, refresh_token))


def test_a_temporary_credential_pushes_and_pulls(
    containerd: Containerd,
    registry_in_console: Registry,
    owner: User,
    tmp_path: Path,
) -> None:
    username, password = generate_temporary(client_for(owner), registry_in_console, "image")
    reference = f"{registry_in_console.address}/team/ctr-temp:latest"
    containerd.new_image(reference, tmp_path)

    containerd.push_and_pull(reference, username, password)
    containerd.remove(reference)


def test_ctr_pushes_in_its_owners_organization_and_is_denied_in_another(
    containerd: Containerd, registry_in_console: Registry, owner: User, tmp_path: Path
) -> None:
    username, password = create_long_term(client_for(owner), registry_in_console, "k8s-node")
    allowed = f"{registry_in_console.address}/team/ctr-edit:latest"
    containerd.new_image(allowed, tmp_path)
    forbidden = f"{registry_in_console.address}/team-b/ctr-edit:latest"
    assert_ok(containerd.ctr("images", "tag", allowed, forbidden))

    assert_ok(containerd.push(allowed, username, password))
    assert_denied(containerd.push(forbidden, username, password))
    containerd.remove(allowed)
    containerd.remove(forbidden)
