"""What browser tests share that is not a fixture (fixtures: browser/conftest.py)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Download, Locator, Page, expect

from credentials.models import User
from tests.helpers import PASSWORD

# Refusals the console answers on purpose (form errors, limits); Chromium logs them as errors.
DELIBERATE_STATUS = re.compile(r"status of (403|409|422|429|502|503|504) ")


ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
AXE_REPORTS = ARTIFACTS.parent / "axe"
# What the checks hold the pages to: WCAG 2.1 A and AA, and axe's best practices.
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    },
    "resultTypes": ["violations"],
    # No preloading of stylesheets: axe would inject them as <style>, which the CSP refuses.
    "preload": False,
}


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
    # caret="initial": hiding the caret injects a style the page's CSP reports as a violation.
    page.screenshot(path=str(path), full_page=True, caret="initial")
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


def open_create_dialog(page: Page) -> Locator:
    """Click Create Long-Term Credential on the long-term tab; the dialog it opens."""
    page.get_by_role("link", name="Create Long-Term Credential").click()
    return page.get_by_role("dialog", name="Create Long-Term Credential")


def credential_row(page: Page, name: str) -> Locator:
    """The long-term tab's row of the credential `name`."""
    return page.get_by_role("row").filter(has=page.get_by_role("cell", name=name, exact=True))


def download_text(download: Download) -> str:
    """A downloaded file's text, its line endings as sent."""
    with open(download.path(), encoding="utf-8", newline="") as handle:
        return handle.read()


def read_download(download: Download) -> list[list[str]]:
    """A downloaded CSV's rows."""
    return list(csv.reader(io.StringIO(download_text(download), newline="")))


def axe_violations(page: Page, axe_source: str, name: str) -> list[dict]:
    """axe-core's violations above minor (moderate, serious, critical) on the page as it is
    now (all of them, minor ones too, are written to test-artifacts/axe/<name>.json). Injected through the DevTools protocol, so
    the page's Content-Security-Policy stays as it is."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source)
    results = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    AXE_REPORTS.mkdir(parents=True, exist_ok=True)
    (AXE_REPORTS / f"{name}.json").write_text(json.dumps(results["violations"], indent=1))
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "nodes": [node["target"] for node in violation["nodes"]][:5],
        }
        for violation in results["violations"]
        if violation["impact"] in ("moderate", "serious", "critical")
    ]


def assert_no_horizontal_scroll(page: Page) -> None:
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"the page is {widths[0]} px wide in a {widths[1]} px window"
