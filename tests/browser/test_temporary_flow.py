from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from credentials.models import AuditEvent, Registry, User
from tests.browser.helpers import open_access_credentials, screenshot
from tests.helpers import SEEN_SECRETS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_temporary_tab(page: Page, user: User) -> None:
    open_access_credentials(page, user)
    page.get_by_role("link", name="Temporary Credentials").click()
    expect(
        page.get_by_role("button", name="Generate a temporary access credential")
    ).to_be_visible()


def test_generate_image_and_chart_commands_and_copy_them(
    page: Page, context: BrowserContext, live_server, owner: User, registry: Registry
) -> None:
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    open_temporary_tab(page, owner)

    page.get_by_role("radio", name="Image").check()
    page.get_by_role("button", name="Generate a temporary access credential").click()
    command = page.locator("#temporary-command")
    expect(command).to_contain_text("docker login -u cn-north-4@")
    docker_command = command.inner_text()
    SEEN_SECRETS.append(docker_command.split()[5])
    assert docker_command.endswith(f" {registry.address}")

    expires = datetime.fromisoformat(
        page.locator("#temporary-result time").get_attribute("datetime")
    )
    assert abs(expires - (datetime.now(UTC) + timedelta(hours=24))) < timedelta(minutes=5)
    expect(page.locator("#temporary-result")).to_contain_text("UTC")
    expect(page.locator("#temporary-result")).to_contain_text("(your time)")

    page.locator("#temporary-result").get_by_role("button", name="Copy").first.click()
    expect(page.locator("[data-copied]")).to_have_count(1)
    assert page.evaluate("navigator.clipboard.readText()") == docker_command
    page.get_by_text("As a Kubernetes Secret").click()
    expect(page.locator("#temporary-kubernetes-secret")).to_contain_text(
        "kubernetes.io/dockerconfigjson"
    )
    screenshot(page, "temporary-image")

    page.get_by_role("radio", name="Chart").check()
    page.get_by_role("button", name="Generate a temporary access credential").click()
    expect(command).to_contain_text(
        f"helm registry login {registry.address} --username cn-north-4@"
    )
    page.locator("#temporary-result").get_by_role("button", name="Copy").first.click()
    assert page.evaluate("navigator.clipboard.readText()") == command.inner_text()
    screenshot(page, "temporary-chart")
    assert AuditEvent.objects.filter(action="temporary.issued").count() == 2
    # Each Generate prepends its one row to the log; the "nothing yet" row has gone.
    log = page.get_by_role("region", name="Issued to you in the last 24 hours")
    rows = log.get_by_role("row")
    expect(rows).to_have_count(3)  # the header and the two just issued, newest first
    expect(rows.nth(1)).to_contain_text("Chart")
    expect(rows.nth(2)).to_contain_text("Image")
    expect(log.get_by_text("You have not generated")).to_be_hidden()
    page.reload()  # the log as the server reads it from the audit trail: the same rows
    expect(rows).to_have_count(3)
    expect(rows.nth(1)).to_contain_text("Chart")


def test_an_upstream_failure_is_shown_in_the_tab(
    page: Page, settings, owner: User, registry: Registry
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Remote mode, with an SWR API that refuses connections.
    settings.SWR_API_URL = f"http://127.0.0.1:{port}"
    settings.SWR_BUILTIN_API = False
    settings.SWR_AUTH_TOKEN = "static-token"
    open_temporary_tab(page, owner)
    page.get_by_role("button", name="Generate a temporary access credential").click()
    expect(page.get_by_role("alert")).to_contain_text("SWR could not be reached just now")
    expect(page.get_by_role("alert")).not_to_contain_text("127.0.0.1")
    expect(page.get_by_role("alert")).to_contain_text("No temporary credential was issued.")
    screenshot(page, "temporary-upstream-error")


def test_generating_works_without_javascript(
    no_js_page: Page, owner: User, registry: Registry
) -> None:
    open_temporary_tab(no_js_page, owner)
    no_js_page.get_by_role("radio", name="Chart").check()
    no_js_page.get_by_role("button", name="Generate a temporary access credential").click()
    expect(no_js_page.locator("#temporary-command")).to_contain_text("helm registry login")
