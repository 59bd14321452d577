from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from credentials.models import Region, Registry, User
from tests.browser.helpers import screenshot, sign_in
from tests.helpers import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_user_signs_in_and_navigates_region_registry_access_credentials(
    page: Page, owner: User, registry: Registry
) -> None:
    eu = Region.objects.create(name="eu-west-101", display_name="EU-Dublin")
    Registry.objects.create(region=eu, name="dublin", address="swr.eu-west-101.example")

    sign_in(page, owner.username, PASSWORD)
    expect(page.get_by_role("heading", name="Registries in CN North-Beijing4")).to_be_visible()
    expect(page.get_by_role("link", name="dublin")).to_have_count(0)

    page.get_by_label("Region", exact=True).select_option("eu-west-101")
    page.get_by_role("button", name="Switch region").click()
    expect(page.get_by_role("heading", name="Registries in EU-Dublin")).to_be_visible()
    expect(page.get_by_role("link", name="dublin")).to_be_visible()
    page.get_by_label("Region", exact=True).select_option("cn-north-4")
    page.get_by_role("button", name="Switch region").click()
    expect(page.get_by_role("heading", name="Registries in CN North-Beijing4")).to_be_visible()
    screenshot(page, "home-registries")

    page.get_by_role("link", name="default").click()
    nav = page.get_by_role("navigation", name="Registry")
    expect(nav.get_by_role("group", name="Access")).to_contain_text("Access Credentials")
    screenshot(page, "registry-overview")

    nav.get_by_role("link", name="Access Credentials").click()
    expect(page.get_by_role("heading", name="Access Credentials")).to_be_visible()
    expect(page.get_by_role("link", name="Long-Term Credentials")).to_have_attribute(
        "aria-current", "page"
    )
    screenshot(page, "access-credentials")


def test_signing_out_returns_to_the_sign_in_page(
    page: Page, owner: User, registry: Registry
) -> None:
    sign_in(page, owner.username, PASSWORD)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
