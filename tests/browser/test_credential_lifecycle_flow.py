"""The credential lifecycle in Chromium: the Validity choice, the Expires column and Expired
status, the banner, and Reset Password's CSV."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from credentials.models import LongTermCredential, Registry, User, digest_password
from tests.browser.helpers import (
    credential_row,
    open_access_credentials,
    open_create_dialog,
    read_download,
    screenshot,
    sign_in,
)
from tests.helpers import PASSWORD, SEEN_SECRETS, new_credential

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_validity_choice_the_expires_column_and_the_expired_status(
    page: Page, owner: User, registry: Registry
) -> None:
    open_access_credentials(page, owner)
    dialog = open_create_dialog(page)
    validity = dialog.get_by_label("Validity")
    expect(validity).to_have_value("never")
    assert validity.locator("option").all_inner_texts() == [
        "Never",
        "30 days",
        "90 days",
        "180 days",
        "365 days",
        "On a date",
    ]
    expires_on = dialog.get_by_label("Expires on")
    expect(expires_on).to_be_hidden()  # only with "On a date"
    validity.select_option("date")
    expect(expires_on).to_be_visible()
    day = (timezone.now() + timedelta(days=45)).date()
    expires_on.fill(day.isoformat())
    dialog.get_by_label("Credential Name").fill("dated-bot")
    screenshot(page, "lifecycle-validity-date")
    with page.expect_download() as download_info:
        dialog.get_by_role("button", name="OK").click()
    header, values = read_download(download_info.value)
    SEEN_SECRETS.append(values[2])
    assert header[-1] == "Expires At"
    assert values[-1] == f"{day.isoformat()}T00:00:00Z"
    expect(dialog).to_be_hidden()
    expect(credential_row(page, "dated-bot")).to_contain_text(f"{day.isoformat()} 00:00 UTC")
    expect(credential_row(page, "dated-bot")).to_contain_text("Enabled")

    dialog = open_create_dialog(page)
    dialog.get_by_label("Credential Name").fill("forever-bot")
    with page.expect_download() as download_info:
        dialog.get_by_role("button", name="OK").click()
    SEEN_SECRETS.append(read_download(download_info.value)[1][2])
    # Expires: Never (Last Used says Never too, until it is used).
    expect(credential_row(page, "forever-bot").locator("td[data-label=Expires]")).to_have_text(
        "Never"
    )

    # Move the credential's clock past its expiry (and tell the tab, as every write does).
    LongTermCredential.objects.filter(name="dated-bot").update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    User.objects.credentials_changed(owner.pk)
    page.reload()
    expired = credential_row(page, "dated-bot")
    expect(expired).to_contain_text("Expired")
    expect(expired.get_by_role("button", name="Enable")).to_have_count(0)
    expect(expired.get_by_role("button", name="Disable")).to_have_count(0)
    expect(expired.get_by_role("link", name="Reset Password")).to_have_count(0)
    expect(expired.get_by_role("link", name="Delete")).to_be_visible()
    screenshot(page, "lifecycle-expired-row")


def test_the_banner_names_a_credential_that_expires_within_a_week(
    page: Page, owner: User, registry: Registry
) -> None:
    new_credential(owner, registry, "soon-bot", expires_at=timezone.now() + timedelta(days=3))
    new_credential(owner, registry, "later-bot", expires_at=timezone.now() + timedelta(days=30))
    sign_in(page, owner.username, PASSWORD)
    # A landmark of its own (complementary): no content outside the landmarks.
    banner = page.get_by_role("complementary", name="Credentials about to expire")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("soon-bot")
    expect(banner).not_to_contain_text("later-bot")
    screenshot(page, "lifecycle-banner")
    banner.get_by_role("link", name="soon-bot").click()
    expect(page.get_by_role("heading", name="Access Credentials")).to_be_visible()
    expect(credential_row(page, "soon-bot")).to_be_visible()


def test_reset_password_downloads_a_new_csv_and_shows_the_overlap(
    page: Page, owner: User, registry: Registry
) -> None:
    credential, old = new_credential(owner, registry, "ci-bot")
    open_access_credentials(page, owner)
    credential_row(page, "ci-bot").get_by_role("link", name="Reset Password").click()
    dialog = page.get_by_role("dialog", name="Reset Password")
    expect(dialog).to_contain_text("keeps working for 24 more hours")
    screenshot(page, "lifecycle-reset-dialog")
    with page.expect_download() as download_info:
        dialog.get_by_role("button", name="OK").click()
    download = download_info.value
    assert download.suggested_filename == "ci-bot.csv"
    header, values = read_download(download)
    assert header[:3] == ["Credential Name", "Username", "Password"]
    new = values[2]
    SEEN_SECRETS.append(new)
    assert values[1] == credential.username
    assert new != old
    credential.refresh_from_db()
    assert credential.password_digest == digest_password(new)
    assert credential.previous_password_digest == digest_password(old)
    expect(dialog).to_be_hidden()
    expect(credential_row(page, "ci-bot")).to_contain_text("Previous password works until")
    screenshot(page, "lifecycle-after-reset")


def test_reset_password_works_without_javascript(
    no_js_page: Page, owner: User, registry: Registry
) -> None:
    credential, old = new_credential(owner, registry, "nojs-bot")
    page = no_js_page
    open_access_credentials(page, owner)
    credential_row(page, "nojs-bot").get_by_role("link", name="Reset Password").click()
    dialog = page.get_by_role("dialog", name="Reset Password")
    expect(dialog).to_contain_text("nojs-bot")
    dialog.get_by_role("button", name="OK").click()
    # The list again, its message holding the one link to the new password's file.
    message = page.locator("#messages[aria-live=polite] [role=status]")
    expect(message).to_contain_text("Credential “nojs-bot” has a new password.")
    expect(page.get_by_role("dialog")).to_have_count(0)
    with page.expect_download() as download_info:
        message.get_by_role("link", name="Download nojs-bot.csv").click()
    new = read_download(download_info.value)[1][2]
    SEEN_SECRETS.append(new)
    credential.refresh_from_db()
    assert credential.password_digest == digest_password(new)
    assert credential.previous_password_digest == digest_password(old)
