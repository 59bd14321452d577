from __future__ import annotations

import csv

import pytest
from playwright.sync_api import Page, expect

from credentials.models import Actor, LongTermCredential, Organization, Registry, User
from credentials.rules import EDIT, READ
from tests.browser.helpers import screenshot
from tests.helpers import PASSWORD, permit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_auditor_filters_the_trail_opens_a_history_and_exports_csv(
    page: Page, auditor: User, owner: User, registry: Registry
) -> None:
    credential, _ = LongTermCredential.objects.create_for(
        owner=owner, registry=registry, name="ci-bot", by=Actor(user=owner)
    )
    credential.disable(by=Actor(user=owner), reason="rotating keys")
    LongTermCredential.objects.create_for(
        owner=owner, registry=registry, name="other", by=Actor(user=owner)
    )

    page.goto("/admin/")
    page.get_by_label("Username").fill(auditor.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Audit events").click()

    filters = page.locator("#changelist-filter")
    filters.get_by_role("link", name="Long-term credential disabled").click()
    filters.get_by_role("link", name="Today").click()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("reason: rotating keys")
    screenshot(page, "admin-audit-filtered")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    with open(download_info.value.path(), encoding="utf-8") as handle:
        exported = list(csv.reader(handle))
    assert len(exported) == 2
    assert exported[1][1] == "long_term.disabled"
    assert exported[1][6] == "ci-bot"

    rows.first.get_by_role("link", name="ci-bot").click()
    expect(page.get_by_role("heading", name="View long-term credential")).to_be_visible()
    page.get_by_role("link", name="Audit events", exact=True).last.click()
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    expect(page.locator("#result_list")).to_contain_text("Long-term credential created")
    expect(page.locator("#result_list")).not_to_contain_text("other")
    screenshot(page, "admin-credential-history")


def test_an_auditor_finds_who_can_push_where_and_exports_it(
    page: Page, auditor: User, owner: User, other_user: User, registry: Registry
) -> None:
    by = Actor(user=owner)
    team_a = Organization.objects.create_for(registry=registry, name="team-a", by=by)
    team_a.grant(level=EDIT, by=by, user=other_user)
    permit(registry, "team-b", READ, user=other_user)

    page.goto("/admin/")
    page.get_by_label("Username").fill(auditor.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Permissions", exact=True).click()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(3)

    filters = page.locator("#changelist-filter")
    filters.get_by_role("link", name="Edit (3)").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("bob")
    screenshot(page, "admin-permissions-filtered")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    with open(download_info.value.path(), encoding="utf-8") as handle:
        exported = list(csv.reader(handle))
    assert exported[0][:8] == [
        "Registry", "Organization", "Repository", "Grantee Type", "Grantee", "Level",
        "Level Code", "Actions",
    ]  # fmt: skip
    assert [row[:9] for row in exported[1:]] == [
        [registry.address, "team-a", "", "user", "bob", "Edit", "3", "pull,push", "alice"]
    ]

    # Typed filters keep the others: bob's grants at any level, then in team-b only.
    filters.get_by_role("link", name="All").last.click()
    filters.get_by_label("user (username)").fill("bob")
    filters.get_by_label("user (username)").press("Enter")
    expect(rows).to_have_count(2)
    filters.get_by_label("organization (name)").fill("team-b")
    filters.get_by_label("organization (name)").press("Enter")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Read (1)")
