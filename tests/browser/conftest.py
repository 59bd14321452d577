"""Playwright driving Debian's Chromium against the live test server."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

# Refusals the console answers on purpose (form errors, limits); Chromium logs them as errors.
DELIBERATE_STATUS = re.compile(r"status of (403|409|422|429|502|503|504) ")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
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


@contextmanager
def watch_for_errors(page: Page) -> Iterator[None]:
    """Fail on any script error, refused resource or CSP violation the page reports."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and not DELIBERATE_STATUS.search(message.text)
            else None
        ),
    )
    yield
    if errors:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        with (ARTIFACTS.parent / "page-errors.log").open("a") as log:
            log.write(f"{page.url}: {errors}\n")
    assert not errors, f"the page reported errors: {errors}"


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


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")
