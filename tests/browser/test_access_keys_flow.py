"""My Credentials › Access Keys in Chromium: with htmx and without JavaScript, credentials.csv is
downloaded (with its byte-order mark) and the list follows every change."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import Page, expect

from credentials.models import AccessKey, User
from tests.browser.helpers import screenshot, sign_in
from tests.helpers import PASSWORD, SEEN_SECRETS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def read_credentials_csv(download) -> list[list[str]]:
    assert download.suggested_filename == "credentials.csv"
    with open(download.path(), "rb") as handle:
        raw = handle.read()
    assert raw.startswith("\ufeff".encode()), "credentials.csv is UTF-8 with a byte-order mark"
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["User Name", "Access Key Id", "Secret Access Key"]
    SEEN_SECRETS.append(rows[1][2])
    return rows


def key_row(page: Page, access_key_id: str):
    return page.get_by_role("row").filter(has=page.get_by_text(access_key_id, exact=True))


def create_key(page: Page) -> list[list[str]]:
    """Create Access Key, then OK: the rows of the credentials.csv it downloads."""
    page.get_by_role("link", name="Create Access Key").click()
    with page.expect_download() as download_info:
        page.get_by_role("dialog", name="Create Access Key").get_by_role(
            "button", name="OK"
        ).click()
    return read_credentials_csv(download_info.value)


def delete_the_last_key(page: Page, access_key_id: str) -> None:
    """Delete the key from its row and confirm: the list is left empty."""
    key_row(page, access_key_id).get_by_role("link", name="Delete").click()
    page.get_by_role("dialog", name="Delete Access Key").get_by_role(
        "button", name="Delete"
    ).click()
    expect(page.get_by_text("You have no access keys yet.")).to_be_visible()
    assert AccessKey.objects.count() == 0


def confirm_disable(page: Page) -> None:
    page.get_by_role("dialog", name="Disable Access Key").get_by_role(
        "button", name="Disable"
    ).click()


def open_access_keys(page: Page, user: User) -> None:
    sign_in(page, user.username, PASSWORD)
    page.get_by_role("link", name="My Credentials").click()
    expect(page.get_by_role("heading", name="My Credentials")).to_be_visible()
    expect(page.get_by_role("link", name="Access Keys")).to_have_attribute("aria-current", "page")


def test_create_download_disable_enable_delete(page: Page, owner: User) -> None:
    open_access_keys(page, owner)
    page.get_by_role("link", name="Create Access Key").click()
    dialog = page.get_by_role("dialog", name="Create Access Key")
    expect(dialog).to_be_visible()
    screenshot(page, "access-key-create-dialog")
    with page.expect_download() as download_info:
        dialog.get_by_role("button", name="OK").click()
    _, (username, access_key_id, secret_key) = read_credentials_csv(download_info.value)
    assert username == "alice"
    assert AccessKey.objects.get(access_key_id=access_key_id).secret_key() == secret_key
    expect(dialog).to_be_hidden()
    expect(key_row(page, access_key_id)).to_contain_text("Enabled")
    expect(page.get_by_text(secret_key)).to_have_count(0)
    screenshot(page, "access-keys-with-key")

    key_row(page, access_key_id).get_by_role("button", name="Disable").click()
    confirm_disable(page)
    expect(key_row(page, access_key_id)).to_contain_text("Disabled")
    expect(page.get_by_role("status")).to_contain_text("is disabled")
    key_row(page, access_key_id).get_by_role("button", name="Enable").click()
    expect(key_row(page, access_key_id)).to_contain_text("Enabled")
    delete_the_last_key(page, access_key_id)


def test_the_third_key_is_refused_in_the_dialog(page: Page, owner: User) -> None:
    open_access_keys(page, owner)
    for _ in range(2):
        create_key(page)
        expect(page.get_by_role("dialog")).to_have_count(0)
    page.get_by_role("link", name="Create Access Key").click()
    page.get_by_role("dialog", name="Create Access Key").get_by_role("button", name="OK").click()
    expect(page.get_by_role("alert")).to_contain_text("You already have 2 access keys")
    assert AccessKey.objects.count() == 2


def test_the_same_flow_works_without_javascript(no_js_page: Page, owner: User) -> None:
    page = no_js_page
    open_access_keys(page, owner)
    page.get_by_role("link", name="Create Access Key").click()
    page.get_by_role("dialog", name="Create Access Key").get_by_role("button", name="OK").click()
    # The list, its message, and the file in a link.
    expect(page).to_have_url(re.compile("/my-credentials/access-keys/$"))
    expect(page.get_by_role("dialog")).to_have_count(0)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download credentials.csv").click()
    _, (_, access_key_id, secret_key) = read_credentials_csv(download_info.value)
    assert AccessKey.objects.get(access_key_id=access_key_id).secret_key() == secret_key

    page.goto("/my-credentials/access-keys/")
    key_row(page, access_key_id).get_by_role("button", name="Disable").click()
    confirm_disable(page)
    expect(key_row(page, access_key_id)).to_contain_text("Disabled")
    expect(page.get_by_role("status")).to_contain_text("is disabled")
    delete_the_last_key(page, access_key_id)
