"""An administrator's registry overview: how to point the registry at this console, in English
and Chinese, from a phone's 360 px to a desktop, axe-clean, its config copied in one click."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, expect

from credentials.models import Registry, User
from tests.browser.helpers import (
    assert_no_horizontal_scroll,
    axe_violations,
    screenshot,
    watch_for_errors,
)
from tests.helpers import PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.split_across_passes,
]

HEADINGS = {"en": "Connect the registry to this console", "zh-hans": "将镜像仓库接入本控制台"}
LOCALES = {"en": "en-US", "zh-hans": "zh-CN"}
CASES = [(language, width) for language in HEADINGS for width in (360, 1440)]


@pytest.mark.parametrize(("language", "width"), CASES, ids=[f"{lang}-{px}" for lang, px in CASES])
def test_an_administrator_reads_and_copies_the_registry_setup(
    browser: Browser,
    live_server,
    axe_source: str,
    staff_user: User,
    registry: Registry,
    token_keys: tuple[str, str],
    language: str,
    width: int,
) -> None:
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": width, "height": 800},
        locale=LOCALES[language],
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    with watch_for_errors(page):
        page.goto(reverse("login"))  # in the browser's language
        page.locator("#id_username").fill(staff_user.username)
        page.locator("#id_password").fill(PASSWORD)
        page.locator("#id_password").press("Enter")
        page.wait_for_url("**/")
        page.goto(reverse("registry_overview", args=[registry.public_id]))
        section = page.get_by_role("region", name=HEADINGS[language])
        expect(section).to_be_visible()
        config = section.locator("#registry-auth-config")
        expect(config).to_contain_text(f'realm: "{live_server.url}/service/token"')
        expect(config).to_contain_text(f'service: "{registry.address}"')
        screenshot(page, f"registry-setup-{language}-{width}")
        assert_no_horizontal_scroll(page)
        box = config.bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= width
        assert axe_violations(page, axe_source, f"registry-setup-{language}-{width}") == []
        section.get_by_role("button").click()
        assert page.evaluate("navigator.clipboard.readText()") == config.inner_text()
    context.close()
