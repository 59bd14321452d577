"""Every action on the access-credential pages says what it did, in the page's live region,
replacing the message before it: htmx answers carry it (HX-Trigger, console.js shows it),
plain forms redirect with it (Django's messages) or answer with it. Without JavaScript, create
and reset end on the list, the new password's CSV in a link of that one answer only."""

from __future__ import annotations

import base64
import csv
import io
import json
import re

import pytest
from django.core.cache import caches
from django.test import Client
from django.urls import reverse

from credentials.models import AccessKey, LongTermCredential, Registry, User
from credentials.models.base import password_matches
from tests.helpers import (
    LONG_TERM_CSV_HEADER_LINE,
    SEEN_SECRETS,
    make_credential,
    new_access_key,
    op_url,
    tab_url,
)

pytestmark = pytest.mark.django_db

LIVE_REGION = '<div id="messages" class="messages" aria-live="polite">'
KEYS = "/my-credentials/access-keys/"
HTMX = {"HX-Request": "true"}


def said(response) -> str:
    """What an htmx answer has the live region say."""
    return json.loads(response["HX-Trigger"])["consoleMessage"]["text"]


def messages_region(html: str) -> str:
    assert LIVE_REGION in html
    start = html.index(LIVE_REGION)
    return html[start : html.index("</div>", start)]


def linked_csv(html: str, filename: str) -> str:
    """The CSV the page's download link carries (a data: URL)."""
    link = re.search(
        rf'href="data:text/csv;charset=utf-8;base64,([^"]+)" download="{filename}"', html
    )
    assert link, "the message links the file"
    return base64.b64decode(link.group(1)).decode("utf-8")


def test_every_page_has_one_polite_live_region(owner_client: Client, registry: Registry) -> None:
    for url in ("/", tab_url(registry), KEYS, reverse("temporary_tab", args=[registry.public_id])):
        assert owner_client.get(url).content.decode().count('id="messages"') == 1
        assert LIVE_REGION in owner_client.get(url).content.decode()


def test_htmx_answers_say_what_each_long_term_action_did(
    owner_client: Client, owner: User, registry: Registry
) -> None:
    create = owner_client.post(
        reverse("create_long_term", args=[registry.public_id]), {"name": "ci-bot"}, headers=HTMX
    )
    assert "Credential “ci-bot” is created." in said(create)
    credential = LongTermCredential.objects.get()
    disable = owner_client.post(op_url("disable", credential), headers=HTMX)
    assert said(disable) == "Credential “ci-bot” is disabled."
    enable = owner_client.post(op_url("enable", credential), headers=HTMX)
    assert said(enable) == "Credential “ci-bot” is enabled."
    reset = owner_client.post(op_url("reset", credential), headers=HTMX)
    assert reset["Content-Type"] == "text/csv; charset=utf-8"
    assert said(reset).startswith("Credential “ci-bot” has a new password.")
    assert "ci-bot.csv" in said(reset)
    delete = owner_client.post(op_url("delete", credential), headers=HTMX)
    assert said(delete) == "Credential “ci-bot” is deleted."


def test_htmx_answers_say_what_each_access_key_action_did(owner_client: Client) -> None:
    create = owner_client.post(f"{KEYS}create/", headers=HTMX)
    key = AccessKey.objects.get()
    assert said(create).startswith(f"Access key {key.access_key_id} is created.")
    base = f"{KEYS}{key.public_id}"
    assert said(owner_client.post(f"{base}/disable/", headers=HTMX)) == (
        f"Access key {key.access_key_id} is disabled."
    )
    assert said(owner_client.post(f"{base}/enable/", headers=HTMX)) == (
        f"Access key {key.access_key_id} is enabled."
    )
    assert said(owner_client.post(f"{base}/delete/", headers=HTMX)) == (
        f"Access key {key.access_key_id} is deleted."
    )


def test_generate_says_what_it_did_with_and_without_javascript(
    owner_client: Client, registry: Registry
) -> None:
    url = reverse("generate_temporary", args=[registry.public_id])
    htmx = owner_client.post(url, {"kind": "image"}, headers=HTMX)
    assert re.fullmatch(
        r"Temporary credential \S+ is generated: its login command is below\.", said(htmx)
    )
    page = owner_client.post(url, {"kind": "chart"}).content.decode()
    assert "is generated: its Helm login command is below." in messages_region(page)


def test_without_javascript_each_message_replaces_the_last(
    owner_client: Client, owner: User, registry: Registry
) -> None:
    credential = make_credential(owner, registry, "ci-bot")
    first = owner_client.post(op_url("disable", credential), follow=True).content.decode()
    assert "Credential “ci-bot” is disabled." in messages_region(first)
    second = owner_client.post(op_url("enable", credential), follow=True).content.decode()
    region = messages_region(second)
    assert "Credential “ci-bot” is enabled." in region
    assert "is disabled" not in region

    key, _ = new_access_key(owner)
    page = owner_client.post(f"{KEYS}{key.public_id}/disable/", follow=True).content.decode()
    region = messages_region(page)
    assert f"Access key {key.access_key_id} is disabled." in region
    assert "ci-bot" not in region


def test_a_create_without_javascript_ends_on_the_list_with_its_file_in_a_link(
    owner_client: Client, registry: Registry
) -> None:
    response = owner_client.post(tab_url(registry), {"name": "nojs-bot", "validity": "never"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    assert "<dialog" not in html  # no dialog left open, no name left filled in
    assert 'id="credential-' in html
    assert ">nojs-bot</td>" in html
    region = messages_region(html)
    assert "Credential “nojs-bot” is created. Download nojs-bot.csv now" in region
    lines = linked_csv(region, "nojs-bot.csv").splitlines()
    assert lines[0] == LONG_TERM_CSV_HEADER_LINE
    name, username, password = next(csv.reader(io.StringIO(lines[1])))[:3]
    SEEN_SECRETS.append(password)
    credential = LongTermCredential.objects.get()
    assert (name, username) == (credential.name, credential.username)
    assert password_matches(password, credential.password_digest)
    # That answer was the only copy: not in the cookies, not in a cache, not on the next page.
    assert password not in str(response.cookies)
    assert password not in str(owner_client.session.items())
    assert not any(password.encode() in value for value in caches["pages"]._cache.values())
    again = owner_client.get(tab_url(registry)).content.decode()
    assert password not in again
    assert "data:text/csv" not in again


def test_a_refused_create_without_javascript_shows_the_dialog_again_on_the_list(
    owner_client: Client, registry: Registry
) -> None:
    response = owner_client.post(tab_url(registry), {"name": "Bad Name!"})
    assert response.status_code == 422
    html = response.content.decode()
    assert '<dialog id="create-dialog"' in html
    assert "The name contains “B”, “N”, a space, “!”." in html
    assert LongTermCredential.objects.count() == 0


def test_a_reset_without_javascript_ends_on_the_list_with_its_file_in_a_link(
    owner_client: Client, owner: User, registry: Registry
) -> None:
    credential = make_credential(owner, registry, "ci-bot")
    dialog = owner_client.get(op_url("reset", credential)).content.decode()
    assert f'<input type="hidden" name="reset" value="{credential.public_id}">' in dialog
    response = owner_client.post(tab_url(registry), {"reset": str(credential.public_id)})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    region = messages_region(response.content.decode())
    assert "Credential “ci-bot” has a new password. Download ci-bot.csv now" in region
    password = next(csv.reader(io.StringIO(linked_csv(region, "ci-bot.csv").splitlines()[1])))[2]
    SEEN_SECRETS.append(password)
    credential.refresh_from_db()
    assert password_matches(password, credential.password_digest)


def test_a_reset_form_sent_again_changes_nothing(
    owner_client: Client, owner: User, registry: Registry
) -> None:
    """Reloading a no-JavaScript reset's answer posts its form again: that must not replace the
    password the user has just downloaded."""
    credential = make_credential(owner, registry, "ci-bot")
    for _ in range(2):  # a reset seen before, then none: the form carries the last one it saw
        dialog = owner_client.get(op_url("reset", credential)).content.decode()
        fields = dict(
            re.findall(r'<input type="hidden" name="(reset\w*)" value="([^"]*)">', dialog)
        )
        assert set(fields) == {"reset", "reset_since"}
        first = owner_client.post(tab_url(registry), fields)
        assert first.status_code == 200
        credential.refresh_from_db()
        digest = credential.password_digest
        again = owner_client.post(tab_url(registry), fields)
        assert again.status_code == 409
        region = messages_region(again.content.decode())
        assert "was already reset with this form, so nothing changed" in region
        assert "data:text/csv" not in again.content.decode()
        credential.refresh_from_db()
        assert credential.password_digest == digest


def test_a_reset_of_someone_elses_credential_from_the_list_is_a_404(
    owner_client: Client, other_user: User, registry: Registry
) -> None:
    theirs = make_credential(other_user, registry, "theirs")
    assert owner_client.post(tab_url(registry), {"reset": str(theirs.public_id)}).status_code == 404
    assert owner_client.post(tab_url(registry), {"reset": "not-a-uuid"}).status_code == 404


def test_an_access_key_created_without_javascript_ends_on_the_list_with_its_file(
    owner_client: Client,
) -> None:
    response = owner_client.post(KEYS)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    key = AccessKey.objects.get()
    assert "<dialog" not in html
    assert f">{key.access_key_id}</code>" in html
    region = messages_region(html)
    assert f"Access key {key.access_key_id} is created. Download credentials.csv now" in region
    rows = list(csv.reader(io.StringIO(linked_csv(region, "credentials.csv").lstrip("\ufeff"))))
    SEEN_SECRETS.append(rows[1][2])
    assert rows[1][1] == key.access_key_id
    assert key.secret_key() == rows[1][2]
