from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from credentials.models import LongTermCredential, Registry, User
from tests.browser.helpers import (
    credential_row,
    download_text,
    open_access_credentials,
    open_create_dialog,
    read_download,
    screenshot,
)
from tests.helpers import LONG_TERM_CSV_HEADER_LINE, SEEN_SECRETS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_create_download_disable_enable_delete(page: Page, owner: User, registry: Registry) -> None:
    open_access_credentials(page, owner)
    screenshot(page, "long-term-tab-empty")

    dialog = open_create_dialog(page)
    expect(dialog).to_be_visible()
    dialog.get_by_label("Credential Name").fill("CI Bot")
    dialog.get_by_role("button", name="OK").click()
    expect(dialog.get_by_role("alert")).to_contain_text("lowercase letters")
    screenshot(page, "long-term-create-error")
    assert LongTermCredential.objects.count() == 0

    dialog.get_by_label("Credential Name").fill("ci-bot.1")
    screenshot(page, "long-term-create-dialog")
    with page.expect_download() as download_info:
        dialog.get_by_role("button", name="OK").click()
    download = download_info.value
    assert download.suggested_filename == "ci-bot.1.csv"
    assert download_text(download).splitlines()[0] == LONG_TERM_CSV_HEADER_LINE
    _, values = read_download(download)  # the header, then exactly one credential
    assert values[0] == "ci-bot.1"
    username, password, address = values[1], values[2], values[3]
    SEEN_SECRETS.append(password)
    assert values[4] == f"docker login -u {username} -p {password} {address}"

    expect(dialog).to_be_hidden()
    created = credential_row(page, "ci-bot.1")
    expect(created).to_contain_text(username)
    expect(created).to_contain_text("Enabled")
    screenshot(page, "long-term-tab-with-credential")

    created.get_by_role("button", name="Disable").click()
    confirm_disable(page)
    expect(credential_row(page, "ci-bot.1")).to_contain_text("Disabled")
    credential_row(page, "ci-bot.1").get_by_role("button", name="Enable").click()
    expect(credential_row(page, "ci-bot.1")).to_contain_text("Enabled")

    credential_row(page, "ci-bot.1").get_by_role("link", name="Delete").click()
    confirm = page.get_by_role("dialog", name="Delete Long-Term Credential")
    expect(confirm).to_contain_text("ci-bot.1")
    screenshot(page, "long-term-delete-confirm")
    confirm.get_by_role("button", name="Delete").click()
    expect(credential_row(page, "ci-bot.1")).to_have_count(0)
    expect(
        page.get_by_text("You have no long-term credentials for this registry yet.")
    ).to_be_visible()
    assert LongTermCredential.objects.count() == 0


def confirm_disable(page: Page) -> None:
    page.get_by_role("dialog", name="Disable Long-Term Credential").get_by_role(
        "button", name="Disable"
    ).click()


def test_each_message_replaces_the_last_and_reset_says_what_it_did(
    page: Page, owner: User, registry: Registry
) -> None:
    open_access_credentials(page, owner)
    dialog = open_create_dialog(page)
    dialog.get_by_label("Credential Name").fill("ci-bot")
    with page.expect_download() as created:
        dialog.get_by_role("button", name="OK").click()
    SEEN_SECRETS.append(read_download(created.value)[1][2])
    messages = page.locator("#messages[aria-live=polite] .message")
    expect(messages).to_have_count(1)
    expect(messages).to_contain_text("Credential “ci-bot” is created.")

    credential_row(page, "ci-bot").get_by_role("link", name="Reset Password").click()
    with page.expect_download() as reset:
        page.get_by_role("dialog", name="Reset Password").get_by_role("button", name="OK").click()
    SEEN_SECRETS.append(read_download(reset.value)[1][2])
    expect(messages).to_have_count(1)
    expect(messages).to_contain_text("Credential “ci-bot” has a new password.")


def test_cancel_closes_the_dialog_and_creates_nothing(
    page: Page, owner: User, registry: Registry
) -> None:
    open_access_credentials(page, owner)
    dialog = open_create_dialog(page)
    dialog.get_by_label("Credential Name").fill("never")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    assert LongTermCredential.objects.count() == 0


def test_the_same_flow_works_without_javascript(
    no_js_page: Page, owner: User, registry: Registry
) -> None:
    page = no_js_page
    open_access_credentials(page, owner)
    dialog = open_create_dialog(page)
    dialog.get_by_label("Credential Name").fill("nojs-bot")
    dialog.get_by_role("button", name="OK").click()
    # The list, its message, and the file in a link: no dialog left open, no name filled in.
    tab = f"/registries/{registry.public_id}/access-credentials/long-term/"
    expect(page).to_have_url(re.compile(re.escape(tab) + "$"))
    expect(page.get_by_role("dialog")).to_have_count(0)
    message = page.locator("#messages[aria-live=polite] [role=status]")
    expect(message).to_contain_text("Credential “nojs-bot” is created.")
    with page.expect_download() as download_info:
        message.get_by_role("link", name="Download nojs-bot.csv").click()
    assert download_info.value.suggested_filename == "nojs-bot.csv"
    assert read_download(download_info.value)[1][0] == "nojs-bot"
    SEEN_SECRETS.append(read_download(download_info.value)[1][2])
    screenshot(page, "long-term-no-js-created")

    page.goto(tab)
    expect(credential_row(page, "nojs-bot")).to_contain_text("Enabled")
    credential_row(page, "nojs-bot").get_by_role("button", name="Disable").click()
    expect(credential_row(page, "nojs-bot")).to_contain_text("Enabled")  # it asks first
    confirm_disable(page)
    expect(credential_row(page, "nojs-bot")).to_contain_text("Disabled")
    expect(page.get_by_role("status")).to_contain_text("is disabled")

    credential_row(page, "nojs-bot").get_by_role("link", name="Delete").click()
    page.get_by_role("dialog", name="Delete Long-Term Credential").get_by_role(
        "button", name="Delete"
    ).click()
    expect(credential_row(page, "nojs-bot")).to_have_count(0)
    screenshot(page, "long-term-no-js-after-delete")
    assert LongTermCredential.objects.count() == 0


def test_tabs_switch_without_a_full_reload_and_keep_their_urls(
    page: Page, owner: User, registry: Registry
) -> None:
    open_access_credentials(page, owner)
    page.get_by_role("link", name="Temporary Credentials").click()
    expect(page).to_have_url(
        f"{page.url.split('/registries/')[0]}/registries/{registry.public_id}/access-credentials/temporary/"
    )
    expect(page.get_by_role("link", name="Temporary Credentials")).to_have_attribute(
        "aria-current", "page"
    )
    page.go_back()
    expect(page.get_by_role("link", name="Long-Term Credentials")).to_have_attribute(
        "aria-current", "page"
    )
