"""The language and region pickers in the top bar change only on an explicit action (their
Switch button, or Enter), never on an arrow key (WCAG 3.2.2), and the page that answers has
the focus back on the picker, with its ring showing. Without JavaScript the button submits."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from credentials.models import Region, Registry, User
from tests.browser.helpers import open_access_credentials, sign_in
from tests.helpers import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RING = """() => {
  const style = getComputedStyle(document.activeElement);
  return style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
}"""


def loads(page: Page) -> list[str]:
    """Every page load of the tab from now on."""
    seen: list[str] = []
    page.on("load", lambda loaded: seen.append(loaded.url))
    return seen


def test_an_arrow_key_changes_the_language_only_once_switch_is_pressed(
    page: Page, owner: User, registry: Registry
) -> None:
    open_access_credentials(page, owner)
    picker = page.locator("#language-select")
    picker.focus()
    loaded = loads(page)
    picker.press("ArrowDown")
    expect(picker).to_have_value("zh-hans")
    page.keyboard.press("Tab")
    switch = page.get_by_role("button", name="Switch language")
    expect(switch).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    # Back on the same page, the focus on the picker and showing.
    expect(page.get_by_role("heading", name="访问凭证", exact=True)).to_be_visible()
    expect(page.locator("#language-select")).to_be_focused()
    assert page.evaluate(RING)
    assert len(loaded) == 1, f"the arrow key loaded a page: {loaded}"


def test_enter_on_the_region_picker_switches_and_keeps_the_focus_on_it(
    page: Page, owner: User, registry: Registry
) -> None:
    eu = Region.objects.create(name="eu-west-101", display_name="EU-Dublin")
    Registry.objects.create(region=eu, name="dublin", address="swr.eu-west-101.example")
    sign_in(page, owner.username, PASSWORD)
    picker = page.get_by_label("Region", exact=True)
    picker.focus()
    loaded = loads(page)
    picker.press("ArrowDown")
    expect(picker).to_have_value("eu-west-101")
    expect(page.get_by_role("link", name="dublin")).to_have_count(0)
    picker.press("Enter")
    expect(page.get_by_role("heading", name="Registries in EU-Dublin")).to_be_visible()
    expect(page.get_by_label("Region", exact=True)).to_be_focused()
    assert page.evaluate(RING)
    assert len(loaded) == 1, f"the arrow key loaded a page: {loaded}"


def test_the_switch_buttons_work_without_javascript(
    no_js_page: Page, owner: User, registry: Registry
) -> None:
    eu = Region.objects.create(name="eu-west-101", display_name="EU-Dublin")
    Registry.objects.create(region=eu, name="dublin", address="swr.eu-west-101.example")
    page = no_js_page
    sign_in(page, owner.username, PASSWORD)
    page.get_by_label("Language", exact=True).select_option("zh-hans")
    page.get_by_role("button", name="Switch language").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("#language-select")).to_be_focused()
    page.get_by_label("区域", exact=True).select_option("eu-west-101")
    page.get_by_role("button", name="切换区域").click()
    expect(page.get_by_role("link", name="dublin")).to_be_visible()
    expect(page.get_by_label("区域", exact=True)).to_be_focused()
