"""Playwright driving Debian's Chromium against the live test server."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.browser.helpers import AXE, watch_for_errors

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    path = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    resolved = shutil.which(path)
    if not resolved:
        pytest.fail(
            f"Chromium is needed for the browser tests and was not found at {path!r}. "
            "Install Debian's chromium package or set CHROMIUM; `make test` installs it as root.",
            pytrace=False,
        )
    return resolved


@pytest.fixture(scope="session")
def browser(chromium_executable: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_executable, args=CHROMIUM_FLAGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def context(browser: Browser, live_server: object) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=live_server.url, accept_downloads=True)
    context.set_default_timeout(15_000)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    page = context.new_page()
    with watch_for_errors(page):
        yield page


@pytest.fixture
def no_js_page(browser: Browser, live_server: object) -> Iterator[Page]:
    context = browser.new_context(
        base_url=live_server.url, accept_downloads=True, java_script_enabled=False
    )
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(
            f"axe-core is needed for the accessibility checks and is not at {AXE}. "
            "`make test` installs it (npm ci --prefix tests/browser).",
            pytrace=False,
        )
    return AXE.read_text(encoding="utf-8")
