"""What every operation on a long-term credential (disable, enable, delete) refuses:
someone else's credential, another registry's URL, a POST without a CSRF token."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from credentials.models import Actor, LongTermCredential, Registry, User
from tests.helpers import client_for, make_credential, op_url


@pytest.mark.parametrize(
    ("operation", "method"),
    [("disable", "post"), ("enable", "post"), ("delete", "get"), ("delete", "post")],
)
def test_another_users_credential_is_a_404_for_every_operation(
    owner: User, other_user: User, registry: Registry, operation: str, method: str
) -> None:
    credential = make_credential(owner, registry, "alices")
    if operation == "enable":
        credential.disable(by=Actor(user=owner))
    response = getattr(client_for(other_user), method)(op_url(operation, credential))
    assert response.status_code == 404
    credential.refresh_from_db()
    assert credential.is_enabled == (operation != "enable")


def test_a_credential_from_another_registry_url_is_a_404(
    owner_client: Client, owner: User, registry: Registry, other_registry: Registry
) -> None:
    credential = make_credential(owner, registry, "ci-bot")
    url = reverse("disable_long_term", args=[other_registry.public_id, credential.public_id])
    assert owner_client.post(url).status_code == 404


@pytest.mark.parametrize("operation", ["disable", "enable", "delete"])
def test_every_post_without_a_csrf_token_is_refused(
    owner: User, registry: Registry, operation: str
) -> None:
    credential = make_credential(owner, registry, "ci-bot")
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.post(op_url(operation, credential)).status_code == 403
    assert LongTermCredential.objects.filter(pk=credential.pk, is_enabled=True).exists()
