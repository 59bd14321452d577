"""After every htmx swap the focus lands on an element that says what happened (the result's
heading, the message, the row's button, the current tab) and shows a ring, even when the action
began with a mouse click (which leaves :focus-visible off)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from credentials.models import AccessKey, Actor, Registry, User
from tests.browser.helpers import open_access_credentials, sign_in
from tests.helpers import PASSWORD, new_credential

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OUTLINE_SHOWN = re.compile(r"^(?!none$)")
AT_LEAST_2_PX = re.compile(r"^([2-9]|\d\d+)(\.\d+)?px$")


def expect_ring_on(page: Page, selector: str) -> None:
    """The focus comes to `selector` once the swap settles, and its outline shows (solid or
    the like, at least 2 px wide). The clicks before leave :focus-visible off, so a ring there
    is the page's doing."""
    focused = page.locator(f":is({selector}):focus")
    expect(focused).to_have_count(1)
    expect(focused).to_have_css("outline-style", OUTLINE_SHOWN)
    expect(focused).to_have_css("outline-width", AT_LEAST_2_PX)


def test_each_swap_of_the_access_credentials_tabs_leaves_a_visible_focus(
    page: Page, settings, owner: User, registry: Registry
) -> None:
    settings.LONG_TERM_PAGE_SIZE = 2
    oldest, _ = new_credential(owner, registry, "alpha")
    oldest.disable(by=Actor(user=owner))
    new_credential(owner, registry, "beta")
    new_credential(owner, registry, "gamma")
    open_access_credentials(page, owner)

    page.get_by_role("link", name="Temporary Credentials").click()
    expect_ring_on(page, ".tabs [aria-current=page]")
    page.get_by_role("button", name="Generate a temporary access credential").click()
    expect_ring_on(page, "#temporary-result h2")

    page.get_by_role("link", name="Long-Term Credentials").click()
    expect_ring_on(page, ".tabs [aria-current=page]")
    page.get_by_role("navigation", name="Pages").get_by_role("link", name="Next").click()
    expect_ring_on(page, "#credential-table .list-summary")
    expect(page.locator("#credential-table .list-summary")).to_be_visible()

    page.get_by_role("button", name="Enable alpha").click()
    expect_ring_on(page, "tr[data-credential=alpha] .operations button")

    page.get_by_role("link", name="Delete alpha").click()
    expect_ring_on(page, "#delete-dialog button")
    page.get_by_role("dialog", name="Delete Long-Term Credential").get_by_role(
        "button", name="Delete"
    ).click()
    expect(page.locator("#messages .message")).to_contain_text("is deleted")
    expect_ring_on(page, "#messages .message")

    page.get_by_role("link", name="Create Long-Term Credential").click()
    dialog = page.get_by_role("dialog", name="Create Long-Term Credential")
    dialog.get_by_label("Credential Name").fill("Bad Name!")
    dialog.get_by_role("button", name="OK").click()
    expect(dialog.get_by_role("alert")).to_be_visible()
    expect_ring_on(page, "#create-dialog [aria-invalid=true]")
    dialog.get_by_label("Credential Name").fill("good-name")
    with page.expect_download():
        dialog.get_by_role("button", name="OK").click()
    expect(dialog).to_have_count(0)
    expect_ring_on(page, "#messages .message")


def test_each_swap_of_the_access_keys_tab_leaves_a_visible_focus(page: Page, owner: User) -> None:
    key, _ = AccessKey.objects.create_for(user=owner, by=Actor(user=owner))
    key.disable(by=Actor(user=owner))
    sign_in(page, owner.username, PASSWORD)
    page.get_by_role("link", name="My Credentials").click()

    page.get_by_role("button", name=f"Enable {key.access_key_id}").click()
    expect_ring_on(page, f"tr[data-access-key='{key.access_key_id}'] .operations button")

    page.get_by_role("button", name=f"Disable {key.access_key_id}").click()
    expect_ring_on(page, "#disable-access-key-dialog button")
    page.get_by_role("dialog", name="Disable Access Key").get_by_role(
        "button", name="Disable"
    ).click()
    expect_ring_on(page, f"tr[data-access-key='{key.access_key_id}'] .operations button")
    expect(page.get_by_role("button", name=f"Enable {key.access_key_id}")).to_be_focused()

    page.get_by_role("link", name=f"Delete {key.access_key_id}").click()
    expect_ring_on(page, "#delete-access-key-dialog button")
    page.get_by_role("dialog", name="Delete Access Key").get_by_role(
        "button", name="Delete"
    ).click()
    expect(page.get_by_text("You have no access keys yet.")).to_be_visible()
    # What the action did: its message when there is one, else the page's heading.
    expect_ring_on(page, "#messages .message, #main h1")
