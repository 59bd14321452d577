"""Delete on the long-term tab: asked first, history kept."""

from __future__ import annotations

import json

from django.test import Client

from credentials.models import AuditEvent, LongTermCredential, Registry, User
from tests.helpers import make_credential, op_url


def test_delete_asks_first_then_removes_the_credential_but_keeps_its_history(
    owner_client: Client, owner: User, registry: Registry
) -> None:
    credential = make_credential(owner, registry, "ci-bot")
    confirm = owner_client.get(op_url("delete", credential)).content.decode()
    assert "Delete <strong>ci-bot</strong>" in confirm
    assert LongTermCredential.objects.count() == 1

    response = owner_client.post(op_url("delete", credential))
    assert response.status_code == 302
    assert LongTermCredential.objects.count() == 0
    deleted = AuditEvent.objects.get(action="long_term.deleted")
    assert deleted.credential_name == "ci-bot"
    assert deleted.credential_username == credential.username
    assert deleted.credential_public_id == credential.public_id
    assert AuditEvent.objects.filter(credential_public_id=credential.public_id).count() == 2


def test_an_htmx_delete_asks_the_page_to_refresh_the_table(
    owner_client: Client, owner: User, registry: Registry
) -> None:
    credential = make_credential(owner, registry, "ci-bot")
    response = owner_client.post(op_url("delete", credential), headers={"HX-Request": "true"})
    assert response.status_code == 200
    events = json.loads(response["HX-Trigger"])
    assert events["credentialsChanged"] == {}
    assert "is deleted" in events["consoleMessage"]["text"]  # said in the live region
