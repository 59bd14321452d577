"""My Credentials › Access Keys: create (the CSV is the only time the secret is shown), the limit,
enable, disable, delete, audited; the secret stored encrypted, never in the admin."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.test import Client

from credentials.models import AccessKey, AuditEvent, Registry, User
from tests.helpers import SEEN_SECRETS, client_for, new_access_key, settings_import

PAGE = "/my-credentials/access-keys/"
CREATE = "/my-credentials/access-keys/create/"


def created_csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="credentials.csv"'
    assert response["Cache-Control"] == "no-store"
    raw = response.content
    assert raw.startswith("\ufeff".encode()), "UTF-8 with a byte-order mark"
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["User Name", "Access Key Id", "Secret Access Key"]
    SEEN_SECRETS.append(rows[1][2])
    return rows


def test_the_top_bar_links_my_credentials(owner_client: Client) -> None:
    page = owner_client.get("/", follow=True).content.decode()
    assert '<a href="/my-credentials/">My Credentials</a>' in page
    assert owner_client.get("/my-credentials/")["Location"] == PAGE


def test_create_downloads_credentials_csv_once(owner_client: Client, owner: User) -> None:
    page = owner_client.get(PAGE).content.decode()
    assert "Create Access Key" in page
    assert "You have no access keys yet." in page

    rows = created_csv(owner_client.post(CREATE))
    username, access_key_id, secret_key = rows[1]
    assert username == "alice"
    key = AccessKey.objects.get()
    assert (key.access_key_id, key.user, key.is_enabled) == (access_key_id, owner, True)
    assert re.fullmatch(r"[A-Z0-9]{20}", access_key_id)
    assert len(secret_key) == 40
    assert key.secret_key() == secret_key
    # Stored encrypted: the plaintext is in no column, the page, the audit trail or the admin.
    assert secret_key not in str(list(AccessKey.objects.values()))
    assert secret_key not in str(list(AuditEvent.objects.values()))
    assert secret_key not in owner_client.get(PAGE).content.decode()
    assert access_key_id in owner_client.get(PAGE).content.decode()
    event = AuditEvent.objects.get(action="access_key.created")
    assert (event.actor, event.channel, event.credential_username) == (
        owner,
        "console",
        access_key_id,
    )


def test_htmx_create_answers_the_csv_and_refreshes_the_list(owner_client: Client) -> None:
    dialog = owner_client.get(CREATE, headers={"HX-Request": "true"}).content.decode()
    assert dialog.strip().startswith('<dialog id="create-access-key-dialog"')
    assert "data-csv-bom" in dialog
    response = owner_client.post(CREATE, headers={"HX-Request": "true"})
    created_csv(response)
    events = json.loads(response["HX-Trigger"])
    assert events["accessKeysChanged"] == {}
    assert set(events) == {"accessKeysChanged", "consoleMessage"}  # and it says so


def test_a_user_has_at_most_the_configured_number_of_keys(owner_client: Client, settings) -> None:
    assert settings.ACCESS_KEYS_PER_USER == 2
    created_csv(owner_client.post(CREATE))
    created_csv(owner_client.post(CREATE))
    refused = owner_client.post(CREATE)
    assert refused.status_code == 422
    assert "You already have 2 access keys" in refused.content.decode()
    assert AccessKey.objects.count() == 2


def test_federated_users_cannot_create_access_keys(federated_user: User) -> None:
    client = client_for(federated_user)
    page = client.get(PAGE).content.decode()
    assert "Create Access Key</a>" not in page
    assert "Federated users cannot create or use access keys" in page
    assert client.post(CREATE).status_code == 403
    assert AccessKey.objects.count() == 0


def test_disable_enable_and_delete_without_javascript(owner_client: Client, owner: User) -> None:
    key, _ = new_access_key(owner)
    base = f"{PAGE}{key.public_id}"
    response = owner_client.post(f"{base}/disable/", follow=True)
    assert f"Access key {key.access_key_id} is disabled." in response.content.decode()
    key.refresh_from_db()
    assert key.is_enabled is False
    assert owner_client.post(f"{base}/enable/").status_code == 302
    key.refresh_from_db()
    assert key.is_enabled is True

    dialog = owner_client.get(f"{base}/delete/").content.decode()
    assert '<dialog id="delete-access-key-dialog"' in dialog
    assert " open>" in dialog
    assert owner_client.post(f"{base}/delete/").status_code == 302
    assert not AccessKey.objects.exists()
    events = AuditEvent.objects.filter(action__startswith="access_key.").order_by("id")
    assert list(events.values_list("action", "channel")) == [
        ("access_key.created", "console"),
        ("access_key.disabled", "console"),
        ("access_key.enabled", "console"),
        ("access_key.deleted", "console"),
    ]


def test_htmx_disable_answers_the_row(owner_client: Client, owner: User) -> None:
    key, _ = new_access_key(owner)
    row = owner_client.post(
        f"{PAGE}{key.public_id}/disable/", headers={"HX-Request": "true"}
    ).content.decode()
    assert row.strip().startswith(f'<tr id="access-key-{key.public_id}"')
    assert "Disabled" in row


WORDS = {"en": ("Disable", "Enable", "Delete"), "zh-hans": ("禁用", "启用", "删除")}


@pytest.mark.parametrize("language", WORDS)
def test_each_rows_buttons_name_their_key_to_screen_readers(owner: User, language: str) -> None:
    enabled, _ = new_access_key(owner)
    disabled, _ = new_access_key(owner)
    disabled.is_enabled = False
    disabled.save()
    client = client_for(owner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page = client.get(PAGE).content.decode()
    disable, enable, delete = WORDS[language]
    for word, key in [
        (disable, enabled),
        (enable, disabled),
        (delete, enabled),
        (delete, disabled),
    ]:
        assert f'aria-label="{word} {key.access_key_id}"' in page


def test_another_users_key_is_a_404(client: Client, owner: User, other_user: User) -> None:
    key, _ = new_access_key(owner)
    intruder = client_for(other_user)
    for action in ("disable", "enable", "delete"):
        assert intruder.post(f"{PAGE}{key.public_id}/{action}/").status_code == 404
    key.refresh_from_db()
    assert key.is_enabled is True


def test_a_get_on_a_post_only_url_is_a_405(owner_client: Client, owner: User) -> None:
    key, _ = new_access_key(owner)
    assert owner_client.get(f"{PAGE}{key.public_id}/enable/").status_code == 405


def test_disable_asks_first_and_changes_nothing_until_confirmed(
    owner_client: Client, owner: User
) -> None:
    key, _ = new_access_key(owner)
    url = f"{PAGE}{key.public_id}/disable/"
    page = owner_client.get(PAGE).content.decode()
    assert f'<form method="get" action="{url}" hx-get="{url}" hx-target="#dialog-slot">' in page
    html = owner_client.get(url).content.decode()  # without JavaScript: the page, dialog open
    assert '<dialog id="disable-access-key-dialog"' in html
    assert " open>" in html
    assert f"Disable access key <code>{key.access_key_id}</code>?" in html
    assert f'<form method="post" action="{url}"' in html
    fragment = owner_client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert fragment.strip().startswith('<dialog id="disable-access-key-dialog"')
    key.refresh_from_db()
    assert key.is_enabled is True
    assert not AuditEvent.objects.filter(action="access_key.disabled").exists()

    confirmed = owner_client.post(url, headers={"HX-Request": "true"}).content.decode()
    assert '<div id="dialog-slot" hx-swap-oob="innerHTML"></div>' in confirmed
    key.refresh_from_db()
    assert key.is_enabled is False


def test_rotating_the_encryption_key_keeps_existing_keys_working(owner: User, settings) -> None:
    key, secret_key = new_access_key(owner)
    old = settings.ACCESS_KEY_ENCRYPTION_KEYS
    new = Fernet.generate_key().decode()
    settings.ACCESS_KEY_ENCRYPTION_KEYS = [new, *old]
    assert key.secret_key() == secret_key
    rotated, _ = new_access_key(owner)
    settings.ACCESS_KEY_ENCRYPTION_KEYS = [new]
    assert rotated.secret_key() is not None
    assert key.secret_key() is None  # old key dropped: the stored secret can no longer be read


def test_the_admin_lists_keys_without_their_secret(owner: User, staff_user: User) -> None:
    key, secret_key = new_access_key(owner)
    admin = client_for(staff_user)
    listing = admin.get("/admin/credentials/accesskey/").content.decode()
    detail = admin.get(f"/admin/credentials/accesskey/{key.pk}/change/").content.decode()
    assert key.access_key_id in listing
    for page in (listing, detail):
        assert secret_key not in page
        assert key.secret_ciphertext not in page


def test_the_overview_shows_instance_and_project_ids(
    owner_client: Client, registry: Registry
) -> None:
    page = owner_client.get(f"/registries/{registry.public_id}/").content.decode()
    assert f'<dt>Instance ID</dt><dd><code id="instance-id">{registry.public_id}</code>' in page
    assert f'<dt>Project ID</dt><dd><code id="project-id">{registry.project_id}</code>' in page
    assert len(registry.project_id) == 32


@pytest.mark.parametrize("value", ["not-a-key", ""])
def test_a_bad_encryption_key_setting_stops_the_start(value: str) -> None:
    production = {"DEBUG": "false", "SECRET_KEY": "s" * 50, "CREDENTIAL_HASH_KEY": "k"}
    result = settings_import(production | {"ACCESS_KEY_ENCRYPTION_KEYS": value})
    assert result.returncode != 0
    assert "ACCESS_KEY_ENCRYPTION_KEYS" in result.stderr
