"""Disable and Enable on the long-term tab."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from credentials.models import AuditEvent, Registry, User
from tests.helpers import make_credential, op_url, tab_url


def test_disable_and_enable_record_when_and_by_whom(
    owner_client: Client, owner: User, registry: Registry
) -> None:
    credential = make_credential(owner, registry, "ci-bot")
    response = owner_client.post(op_url("disable", credential), headers={"User-Agent": "t/1"})
    assert response.status_code == 302
    credential.refresh_from_db()
    assert not credential.is_enabled
    assert credential.status_changed_by == owner
    assert (timezone.now() - credential.status_changed_at).total_seconds() < 60
    assert "Disabled" in owner_client.get(tab_url(registry)).content.decode()

    owner_client.post(op_url("enable", credential))
    credential.refresh_from_db()
    assert credential.is_enabled
    actions = list(
        AuditEvent.objects.filter(credential_public_id=credential.public_id)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["long_term.created", "long_term.disabled", "long_term.enabled"]


def test_disabling_twice_records_one_event(
    owner_client: Client, owner: User, registry: Registry
) -> None:
    credential = make_credential(owner, registry, "ci-bot")
    owner_client.post(op_url("disable", credential))
    owner_client.post(op_url("disable", credential))
    assert AuditEvent.objects.filter(action="long_term.disabled").count() == 1


def test_an_htmx_disable_answers_the_updated_row(
    owner_client: Client, owner: User, registry: Registry
) -> None:
    credential = make_credential(owner, registry, "ci-bot")
    response = owner_client.post(op_url("disable", credential), headers={"HX-Request": "true"})
    assert response.status_code == 200
    fragment = response.content.decode().strip()
    assert fragment.startswith(f'<tr id="credential-{credential.public_id}"')
    assert "Disabled" in fragment
    assert ">Enable</button>" in fragment


@pytest.mark.parametrize("operation", ["disable", "enable"])
def test_a_get_on_a_post_only_url_is_a_405(
    owner_client: Client, owner: User, registry: Registry, operation: str
) -> None:
    credential = make_credential(owner, registry, "ci-bot")
    assert owner_client.get(op_url(operation, credential)).status_code == 405
