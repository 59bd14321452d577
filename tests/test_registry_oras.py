"""The ORAS Python SDK pushes and pulls a Helm chart through docker-registry, with the console
as its token realm, with a long-term credential and a temporary one (Chart)."""

from __future__ import annotations

from pathlib import Path

import pytest

from credentials.models import Registry, User
from tests.helpers import client_for
from tests.registry import (
    RunningRegistry,
    build_helm_chart,
    create_long_term,
    generate_temporary,
    operate,
    oras_client,
    oras_pull_chart,
    oras_push_chart,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_long_term_credential_pushes_and_pulls_a_chart_until_disabled(
    docker_registry: RunningRegistry, registry_in_console: Registry, owner: User, tmp_path: Path
) -> None:
    console = client_for(owner)
    username, password = create_long_term(console, registry_in_console, "charts")
    host = docker_registry.address
    reference = f"{host}/charts/demo:0.1.0"
    package = build_helm_chart(tmp_path / "chart")
    config = tmp_path / "docker-config.json"

    # The SDK keeps the pull-only token its first request earned and sends it again to push.
    oras_push_chart(oras_client(host, username, password, config), reference, package)
    pulled = oras_pull_chart(
        oras_client(host, username, password, config), reference, tmp_path / "pulled"
    )
    assert pulled.read_bytes() == package.read_bytes()

    operate(console, registry_in_console, "disable", username)
    with pytest.raises(ValueError, match="authentication"):
        oras_pull_chart(oras_client(host, username, password, config), reference, tmp_path / "x")
    with pytest.raises(ValueError, match="authentication"):
        oras_push_chart(oras_client(host, username, password, config), reference, package)

    operate(console, registry_in_console, "enable", username)
    again = oras_pull_chart(
        oras_client(host, username, password, config), reference, tmp_path / "again"
    )
    assert again.read_bytes() == package.read_bytes()


def test_a_temporary_chart_credential_pushes_and_pulls_a_chart(
    docker_registry: RunningRegistry, registry_in_console: Registry, owner: User, tmp_path: Path
) -> None:
    username, password = generate_temporary(client_for(owner), registry_in_console, "chart")
    host = docker_registry.address
    reference = f"{host}/charts/temp:0.1.0"
    package = build_helm_chart(tmp_path / "chart", name="temp")
    config = tmp_path / "docker-config.json"

    oras_push_chart(oras_client(host, username, password, config), reference, package)
    pulled = oras_pull_chart(
        oras_client(host, username, password, config), reference, tmp_path / "pulled"
    )
    assert pulled.read_bytes() == package.read_bytes()
