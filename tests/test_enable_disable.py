"""Disable and Enable on the long-term tab."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from credentials.models import Actor, AuditEvent, LongTermCredential, Registry, User
from credentials.models.long_term import LongTermCredentialQuerySet
from credentials.timestamps import shown
from tests.helpers import make_credential, op_url, tab_url


def test_disable_and_enable_record_when_and_by_whom(
    owner_client: Client, owner: User, registry: Registry
) -> None:
    credential = make_credential(owner, registry, "ci-bot")
    response = owner_client.post(op_url("disable", credential), headers={"User-Agent": "t/1"})
    assert response.status_code == 302
    assert response["Location"] == tab_url(registry)
    credential.refresh_from_db()
    assert not credential.is_enabled
    assert credential.status_changed_by == owner
    assert (timezone.now() - credential.status_changed_at).total_seconds() < 60
    assert "Disabled" in owner_client.get(tab_url(registry)).content.decode()

    response = owner_client.post(op_url("enable", credential))
    assert response.status_code == 302
    assert response["Location"] == tab_url(registry)
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
    first = owner_client.post(op_url("disable", credential))
    second = owner_client.post(op_url("disable", credential))  # already disabled: no error
    assert (first.status_code, second.status_code) == (302, 302)
    assert first["Location"] == second["Location"] == tab_url(registry)
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


def test_a_get_on_the_post_only_enable_url_is_a_405(
    owner_client: Client, owner: User, registry: Registry
) -> None:
    credential = make_credential(owner, registry, "ci-bot")
    assert owner_client.get(op_url("enable", credential)).status_code == 405


def test_the_rows_disable_asks_first_for_its_confirmation(
    owner_client: Client, owner: User, registry: Registry
) -> None:
    credential = make_credential(owner, registry, "ci-bot")
    page = owner_client.get(tab_url(registry)).content.decode()
    # The row's Disable is a GET of its confirmation (a button, with or without JavaScript).
    url = op_url("disable", credential)
    assert f'<form method="get" action="{url}" hx-get="{url}" hx-target="#dialog-slot">' in page

    asked = owner_client.get(url + "?q=ci")  # without JavaScript: the tab, the dialog open
    assert asked.status_code == 200
    html = asked.content.decode()
    assert '<dialog id="disable-dialog"' in html
    assert " open>" in html
    assert "Disable <strong>ci-bot</strong>" in html
    assert f'<form method="post" action="{url}"' in html
    assert '<input type="hidden" name="q" value="ci">' in html  # back to the same list after
    assert ">Disable</button>" in html
    assert ">Cancel</button>" in html
    credential.refresh_from_db()
    assert credential.is_enabled  # asking changed nothing
    assert not AuditEvent.objects.filter(action="long_term.disabled").exists()

    fragment = owner_client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert fragment.strip().startswith('<dialog id="disable-dialog"')
    assert " open>" not in fragment  # console.js opens it as a modal


def test_confirming_in_the_dialog_with_htmx_answers_the_row_and_closes_the_dialog(
    owner_client: Client, owner: User, registry: Registry
) -> None:
    credential = make_credential(owner, registry, "ci-bot")
    response = owner_client.post(op_url("disable", credential), headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert '<div id="dialog-slot" hx-swap-oob="innerHTML"></div>' in html
    assert json.loads(response["HX-Trigger"])["consoleMessage"]["text"] == (
        "Credential “ci-bot” is disabled."
    )


# --- An administrator's decision binds ------------------------------------------------------


def _disabled_by_an_administrator(owner: User, staff_user: User, registry: Registry):
    credential = make_credential(owner, registry, "ci-bot")
    credential.disable(
        by=Actor(user=staff_user), reason="leaked in a build log", administrator=True
    )
    return credential


def test_a_credential_an_administrator_disabled_says_who_when_and_why_and_offers_no_enable(
    owner_client: Client, owner: User, staff_user: User, registry: Registry
) -> None:
    credential = _disabled_by_an_administrator(owner, staff_user, registry)
    page = owner_client.get(tab_url(registry)).content.decode()
    row = page[page.index(f'id="credential-{credential.public_id}"') :]
    row = row[: row.index("</tr>")]
    when = shown(credential.status_changed_at)
    assert f"An administrator (sam) disabled this credential on {when}" in row
    assert "“leaked in a build log”" in row
    assert "Only an administrator can enable it again." in row
    assert ">Enable</button>" not in row
    assert ">Delete</a>" in row  # its owner may still delete it


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "Only an administrator can enable it again."),
        ("zh-hans", "只有管理员可以重新启用。"),
    ],
)
def test_the_owners_enable_is_refused_with_the_reason_in_both_languages(
    owner_client: Client,
    owner: User,
    staff_user: User,
    registry: Registry,
    language: str,
    message: str,
) -> None:
    credential = _disabled_by_an_administrator(owner, staff_user, registry)
    owner_client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = owner_client.post(op_url("enable", credential), headers={"HX-Request": "true"})
    assert response.status_code == 409
    assert message in response.content.decode()  # in the row
    assert message in json.loads(response["HX-Trigger"])["consoleMessage"]["text"]
    page = owner_client.post(op_url("enable", credential), follow=True).content.decode()
    assert message in page  # without JavaScript: the list, the message above it
    credential.refresh_from_db()
    assert not credential.is_enabled
    assert credential.disabled_by_administrator
    assert not AuditEvent.objects.filter(action="long_term.enabled").exists()


@pytest.mark.parametrize("operation", ["disable", "enable"])
def test_an_administrators_disabling_made_while_the_owners_request_was_on_its_way_still_binds(
    owner_client: Client,
    owner: User,
    staff_user: User,
    registry: Registry,
    monkeypatch: pytest.MonkeyPatch,
    operation: str,
) -> None:
    """The owner's Disable or Enable read the credential; an administrator's disabling
    committed before it wrote (a racing request): the owner's write must not erase it."""
    credential = make_credential(owner, registry, "ci-bot")
    if operation == "enable":  # the owner had disabled it, and enables it again
        credential.disable(by=Actor(user=owner))
    owned = LongTermCredentialQuerySet.owned

    def the_administrator_decides_meanwhile(self, *args, **kwargs):
        found = owned(self, *args, **kwargs)
        LongTermCredential.objects.get(pk=found.pk).disable(
            by=Actor(user=staff_user), reason="leaked in a build log", administrator=True
        )
        return found

    monkeypatch.setattr(LongTermCredentialQuerySet, "owned", the_administrator_decides_meanwhile)
    owner_client.post(op_url(operation, credential))
    monkeypatch.undo()

    credential.refresh_from_db()
    assert (credential.is_enabled, credential.disabled_by_administrator) == (False, True)
    assert credential.status_changed_by == staff_user
    assert credential.status_reason == "leaked in a build log"
    assert owner_client.post(op_url("enable", credential)).status_code == 302
    credential.refresh_from_db()
    assert not credential.is_enabled  # the owner's Enable afterwards is refused too
    assert not AuditEvent.objects.filter(action="long_term.enabled").exists()
