"""The admin as an administrator and as an Auditor: no axe-core violation above minor on any
page state, at 1440 px and on a 390 px phone, the credential, audit, permission and organization
lists fit 1440 px, and no link is a dead end."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from credentials.models import (
    Actor,
    AuditEvent,
    LongTermCredential,
    Organization,
    Permission,
    Registry,
    User,
)
from credentials.rules import EDIT, READ
from tests.browser.helpers import axe_violations, screenshot, watch_for_errors
from tests.helpers import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def trail(owner: User, registry: Registry) -> LongTermCredential:
    """Credentials with long names and usernames, some disabled, and their audit events."""
    made = []
    for number in range(4):
        credential, _ = LongTermCredential.objects.create_for(
            owner=owner,
            registry=registry,
            name=f"release-pipeline-{number}-with-a-rather-long-descriptive-name",
            by=Actor(user=owner, ip_address="203.0.113.7", user_agent="Mozilla/5.0 " * 8),
        )
        made.append(credential)
    made[0].disable(by=Actor(user=owner), reason="rotating the pipeline's credentials this week")
    return made[0]


@pytest.fixture
def grants(owner: User, other_user: User, registry: Registry) -> Permission:
    """An organization with a long name; Manage, Edit and a group's Read on a long repository
    path: the group's grant."""
    by = Actor(user=owner)
    organization = Organization.objects.create_for(
        registry=registry, name="platform-release-engineering-and-tooling", by=by
    )
    organization.grant(level=EDIT, by=by, user=other_user)
    group = Group.objects.create(name="release-managers-of-the-platform-team")
    grant, _ = organization.grant(
        level=READ, by=by, group=group, repository="build/tools/with-a-rather-long-name"
    )
    return grant


def open_admin(
    browser: Browser, live_server, axe_source: str, user: User, language: str, width: int = 1440
):
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": width, "height": 900},
        locale={"en": "en-US", "zh-hans": "zh-CN"}[language],
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/admin/login/")
    assert axe_violations(page, axe_source, f"admin-{language}-{width}-login") == []
    page.locator("#id_username").fill(user.username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("input[type=submit]").click()
    expect(page.locator("#site-name")).to_be_visible()
    return context, page


def check(page: Page, axe_source: str, name: str, *, list_fits: bool = False) -> None:
    screenshot(page, name)
    assert axe_violations(page, axe_source, name) == [], name
    if list_fits:  # every column shows: the results table needs no scrolling of its own
        widths = page.evaluate(
            "(() => { const r = document.querySelector('.results');"
            " return [r.scrollWidth, r.clientWidth]; })()"
        )
        assert widths[0] <= widths[1], f"{name}: the list is {widths[0]} px in {widths[1]} px"


@pytest.mark.split_across_passes
@pytest.mark.parametrize("width", [1440, 390])
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_administrators_pages(
    browser: Browser,
    live_server,
    axe_source: str,
    staff_user: User,
    trail,
    grants: Permission,
    language: str,
    width: int,
) -> None:
    context, page = open_admin(browser, live_server, axe_source, staff_user, language, width)
    # A phone scrolls the lists sideways, as Django's admin does; a desktop fits them.
    fits = width == 1440
    case = f"{language}-{width}"  # in the screenshots' and axe reports' names
    with watch_for_errors(page):
        check(page, axe_source, f"admin-{case}-index")
        page.goto(reverse("admin:credentials_longtermcredential_changelist"))
        check(page, axe_source, f"admin-{case}-credentials", list_fits=fits)
        page.goto(reverse("admin:credentials_longtermcredential_changelist") + "?q=release-pipe")
        expect(page.locator("#result_list tbody tr")).to_have_count(4)  # a prefix finds them
        check(page, axe_source, f"admin-{case}-credentials-searched", list_fits=fits)
        page.locator("#result_list tbody input[type=checkbox]").first.check()
        page.locator("select[name=action]").select_option("disable_selected")
        page.locator("button[name=index]").click()
        check(page, axe_source, f"admin-{case}-reason-action")
        page.goto(reverse("admin:credentials_longtermcredential_change", args=[trail.pk]))
        check(page, axe_source, f"admin-{case}-credential")
        page.goto(reverse("admin:credentials_auditevent_changelist"))
        check(page, axe_source, f"admin-{case}-audit", list_fits=fits)
        event = AuditEvent.objects.filter(action="long_term.disabled").first()
        page.goto(reverse("admin:credentials_auditevent_change", args=[event.pk]))
        check(page, axe_source, f"admin-{case}-audit-event")
        page.goto(reverse("admin:credentials_user_changelist"))
        check(page, axe_source, f"admin-{case}-users")
        page.goto(reverse("admin:credentials_permission_changelist"))
        expect(page.locator("#result_list tbody tr")).to_have_count(3)
        check(page, axe_source, f"admin-{case}-permissions", list_fits=fits)
        page.goto(reverse("admin:credentials_permission_changelist") + "?group=release-man")
        expect(page.locator("#result_list")).to_have_count(0)  # a whole name: none
        check(page, axe_source, f"admin-{case}-permissions-none")
        page.goto(reverse("admin:credentials_permission_change", args=[grants.pk]))
        check(page, axe_source, f"admin-{case}-permission")
        page.goto(reverse("admin:credentials_organization_changelist"))
        check(page, axe_source, f"admin-{case}-organizations", list_fits=fits)
        page.goto(reverse("admin:credentials_organization_change", args=[grants.organization_id]))
        check(page, axe_source, f"admin-{case}-organization")
    context.close()


def test_an_auditor_meets_no_dead_end(
    browser: Browser, live_server, axe_source: str, auditor: User, trail, grants: Permission
) -> None:
    context, page = open_admin(browser, live_server, axe_source, auditor, "en")
    with watch_for_errors(page):
        page.goto(reverse("admin:credentials_longtermcredential_change", args=[trail.pk]))
        check(page, axe_source, "admin-auditor-credential")
        # The owner's links lead to lists an Auditor may open, not to a user page (a 403).
        links = page.locator("div.field-owner_credentials a")
        expect(links).to_have_count(2)
        for index in range(2):
            href = links.nth(index).get_attribute("href")
            assert page.request.get(href).status == 200, href
        links.first.click()
        expect(page.locator("#result_list tbody tr")).to_have_count(4)
        check(page, axe_source, "admin-auditor-credentials", list_fits=True)
        page.goto(reverse("admin:credentials_auditevent_changelist"))
        check(page, axe_source, "admin-auditor-audit", list_fits=True)
        # From an organization to its grants, to a grant, to every grant of its grantee.
        page.goto(reverse("admin:credentials_organization_changelist"))
        page.get_by_role("link", name="3 grants").click()
        expect(page.locator("#result_list tbody tr")).to_have_count(3)
        check(page, axe_source, "admin-auditor-permissions", list_fits=True)
        page.locator("#result_list tbody tr").filter(has_text="release-managers").get_by_role(
            "link"
        ).first.click()
        check(page, axe_source, "admin-auditor-permission")
        page.get_by_role("link", name="every grant").click()
        expect(page.locator("#result_list tbody tr")).to_have_count(1)
        page.get_by_role("link", name="Export CSV").wait_for()
        # A page the Auditor may not see says so in the console's words, with a way back.
        page.goto(reverse("admin:credentials_user_changelist"))
        expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
        expect(page.get_by_role("link", name="Back to the admin")).to_be_visible()
        check(page, axe_source, "admin-auditor-not-allowed")
    context.close()
