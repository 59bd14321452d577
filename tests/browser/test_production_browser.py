"""The console in Chromium under the production settings: gunicorn, HTTPS behind a proxy,
the Content-Security-Policy, Secure cookies. Any CSP violation fails the page fixture."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from credentials.models import Registry, User
from tests.browser.helpers import open_create_dialog, read_download, screenshot, watch_for_errors
from tests.helpers import PASSWORD, SEEN_SECRETS
from tests.servers import Gunicorn, free_port, gunicorn

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server(token_keys: tuple[str, str]) -> Iterator[Gunicorn]:
    port = free_port()
    with gunicorn(
        "browser",
        port=port,
        # The browser talks plain HTTP to localhost; the proxy header says it was HTTPS, so
        # its http:// Origin must be trusted explicitly (a real proxy serves https://).
        CSRF_TRUSTED_ORIGINS=f"http://localhost:{port}",
        REGISTRY_TOKEN_KEY_FILE=token_keys[0],
        REGISTRY_TOKEN_CERT_FILE=token_keys[1],
    ) as running:
        running.url = f"http://localhost:{port}"
        yield running


@pytest.fixture
def production_page(browser: Browser, server: Gunicorn) -> Iterator[Page]:
    context = browser.new_context(
        base_url=server.url,
        accept_downloads=True,
        extra_http_headers={"X-Forwarded-Proto": "https"},
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    with watch_for_errors(page):
        yield page
    context.close()


def test_the_console_works_in_chromium_under_the_production_csp(
    production_page: Page, owner: User, registry: Registry
) -> None:
    page = production_page
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(owner.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="default").click()
    page.get_by_role("navigation", name="Registry").get_by_role(
        "link", name="Access Credentials"
    ).click()

    dialog = open_create_dialog(page)
    dialog.get_by_label("Credential Name").fill("prod-bot")
    with page.expect_download() as download_info:
        dialog.get_by_role("button", name="OK").click()
    SEEN_SECRETS.append(read_download(download_info.value)[1][2])
    expect(page.get_by_role("row").filter(has_text="prod-bot")).to_contain_text("Enabled")

    page.get_by_role("link", name="Temporary Credentials").click()
    page.get_by_role("radio", name="Chart").check()
    page.get_by_role("button", name="Generate a temporary access credential").click()
    command = page.locator("#temporary-command")
    expect(command).to_contain_text("helm registry login")
    SEEN_SECRETS.append(command.inner_text().split()[-1])
    screenshot(page, "production-temporary")
