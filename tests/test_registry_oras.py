"""The ORAS Python SDK pushes and pulls a Helm chart through docker-registry, with the console
as its token realm, with a long-term credential and a temporary one (Chart)."""

from __future__ import annotations

from pathlib import Path

import pytest

from credentials.models import Registry, User
from credentials.rules import EDIT
from tests.helpers import client_for, login_failures, permit
from tests.registry import (
    Oras,
    build_helm_chart,
    create_long_term,
    generate_temporary,
    operate,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _owner_may_push_in_team(registry_in_console: Registry, owner: User) -> None:
    """The owner holds Edit on organization `charts`, where these tests push."""
    permit(registry_in_console, "charts", EDIT, user=owner)


def test_a_long_term_credential_pushes_and_pulls_a_chart_until_disabled(
    registry_in_console: Registry, owner: User, tmp_path: Path
) -> None:
    console = client_for(owner)
    username, password = create_long_term(console, registry_in_console, "charts")
    host = registry_in_console.address
    oras = Oras(host, username, password, tmp_path / "docker-config.json")
    reference = f"{host}/charts/demo:0.1.0"
    package = oras.push_and_pull_chart(reference, tmp_path)

    operate(console, registry_in_console, "disable", username)
    with pytest.raises(ValueError, match="authentication"):
        oras.pull_chart(reference, tmp_path / "x")
    with pytest.raises(ValueError, match="authentication"):
        oras.push_chart(reference, package)

    operate(console, registry_in_console, "enable", username)
    assert oras.pull_chart(reference, tmp_path / "again").read_bytes() == package.read_bytes()


def test_a_temporary_chart_credential_pushes_and_pulls_a_chart(
    registry_in_console: Registry, owner: User, tmp_path: Path
) -> None:
    username, password = generate_temporary(client_for(owner), registry_in_console, "chart")
    host = registry_in_console.address
    oras = Oras(host, username, password, tmp_path / "docker-config.json")
    oras.push_and_pull_chart(f"{host}/charts/temp:0.1.0", tmp_path)


def test_the_oras_sdk_pushes_in_its_owners_organization_and_is_denied_in_another(
    registry_in_console: Registry, owner: User, tmp_path: Path
) -> None:
    username, password = create_long_term(client_for(owner), registry_in_console, "charts")
    host = registry_in_console.address
    oras = Oras(host, username, password, tmp_path / "docker-config.json")
    package = build_helm_chart(tmp_path / "chart", name="edit")
    oras.push_chart(f"{host}/charts/edit:0.1.0", package)
    # The registry refuses the repository the token grants nothing on; the console issued
    # that token (no refused login), so the credential itself was good.
    with pytest.raises(ValueError, match=r"UNAUTHORIZED.*'Name': 'team-b/edit'"):
        oras.push_chart(f"{host}/team-b/edit:0.1.0", package)
    assert not login_failures().exists()
