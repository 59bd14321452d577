"""What browser tests share that is not a fixture (fixtures: browser/conftest.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Page, expect

from credentials.models import User
from tests.helpers import PASSWORD

# Refusals the console answers on purpose (form errors, limits); Chromium logs them as errors.
DELIBERATE_STATUS = re.compile(r"status of (403|409|422|429|502|503|504) ")


ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


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


def open_access_credentials(page: Page, user: User) -> None:
    sign_in(page, user.username, PASSWORD)
    page.get_by_role("link", name="default").click()
    page.get_by_role("navigation", name="Registry").get_by_role(
        "link", name="Access Credentials"
    ).click()
    expect(page.get_by_role("heading", name="Access Credentials")).to_be_visible()
