"""Every console page (sign-in, home, overview, both tabs and the create dialog, change password,
access keys, organizations, an organization's two tabs, My Permissions) in
English and Chinese at 360, 390 and 1440 px: axe finds nothing above minor, every target is at
least 24×24 px (WCAG 2.5.8), status words, operations and headers sit on one line, tabbing
lands only on controls one can see, nothing scrolls sideways, and the Access Keys table becomes
cards on a phone. Screenshots: test-artifacts/screenshots/pages-*."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from credentials.models import AccessKey, Actor, Organization, Registry, User
from credentials.rules import ACCESS_PULL, EDIT, READ
from tests.browser.helpers import axe_violations, screenshot, watch_for_errors
from tests.helpers import PASSWORD, new_credential

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.split_across_passes,
]

WIDTHS = [360, 390, 1440]
LOCALES = {"en": "en-US", "zh-hans": "zh-CN"}
CASES = [(language, width) for language in LOCALES for width in WIDTHS]

# Targets smaller than 24×24 CSS px, but for links inside running text (WCAG 2.5.8's exception:
# an inline link in a paragraph or list item that says more than the link).
SMALL_TARGETS = """() => {
  const inRunningText = (el) => {
    if (el.tagName !== "A" || getComputedStyle(el).display !== "inline") return false;
    const block = el.closest("p, li");
    return !!block && block.textContent.trim() !== el.textContent.trim();
  };
  const small = [];
  for (const el of document.querySelectorAll(
    "a[href], button, select, summary, input:not([type=hidden]), textarea")) {
    if (!el.getClientRects().length || getComputedStyle(el).visibility === "hidden") continue;
    if (inRunningText(el)) continue;
    const box = el.getBoundingClientRect();
    if (box.width < 24 || box.height < 24) {
      small.push(`${el.tagName.toLowerCase()} "${(el.textContent || el.value || el.name).trim()}"`
        + ` ${Math.round(box.width * 10) / 10}×${Math.round(box.height * 10) / 10}`);
    }
  }
  return small;
}"""

# Words that must not break: each element's text on one line (its text's boxes share a top).
BROKEN_WORDS = """() => {
  const broken = [];
  for (const el of document.querySelectorAll(
    ".status, .operations a, .operations button, th, .topbar a, .topbar button")) {
    if (!el.getClientRects().length) continue;
    const tops = new Set();
    const texts = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    while (texts.nextNode()) {
      const range = document.createRange();
      range.selectNodeContents(texts.currentNode);
      for (const box of range.getClientRects()) if (box.width > 0) tops.add(Math.round(box.top));
    }
    const lines = [...tops].sort((a, b) => a - b)
      .filter((top, i, all) => i === 0 || top - all[i - 1] > 3).length;
    if (lines > 1) broken.push(`"${el.textContent.trim()}" on ${lines} lines`);
  }
  return broken;
}"""

# The focused element, if one cannot see it: no box, hidden, or clipped to a pixel.
FOCUS_UNSEEN = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const name = `${el.tagName.toLowerCase()} "${(el.textContent || el.value || "").trim()}"`;
  if (!el.checkVisibility({ visibilityProperty: true })) return name + " (not rendered)";
  const box = el.getBoundingClientRect();
  if (box.width < 2 || box.height < 2) return name + " (no size)";
  if (box.right <= 0 || box.left >= innerWidth) return name + " (off the screen)";
  for (let node = el.parentElement; node; node = node.parentElement) {
    const outer = node.getBoundingClientRect();
    const style = getComputedStyle(node);
    const clips = style.overflow !== "visible" || style.clip !== "auto";
    if (clips && (outer.width <= 1 || outer.height <= 1)) return name + " (clipped away)";
  }
  return null;
}"""


def hidden_tab_stops(page: Page) -> list[str]:
    """Tab from the top of the page until the focus comes round again: each stop one cannot
    see."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    unseen, visited = [], []
    for _ in range(120):
        page.keyboard.press("Tab")
        here = page.evaluate(
            "(() => { const el = document.activeElement;"
            " return el === document.body ? null : el.outerHTML.slice(0, 80); })()"
        )
        if here is None or (visited and here == visited[0]):
            break
        visited.append(here)
        problem = page.evaluate(FOCUS_UNSEEN)
        if problem:
            unseen.append(problem)
    return unseen


class Inspection:
    """One language at one width: each page's problems, by page and check."""

    def __init__(self, page: Page, axe_source: str, language: str, width: int) -> None:
        self.page, self.axe, self.language, self.width = page, axe_source, language, width
        self.problems: dict[str, list[str]] = {}

    def inspect(self, name: str) -> None:
        page, label = self.page, f"pages-{self.language}-{self.width}-{name}"
        page.wait_for_load_state()
        screenshot(page, label)
        found = {
            "axe": [
                f"{v['id']} ({v['impact']}) {v['nodes']}"
                for v in axe_violations(page, self.axe, label)
            ],
            "targets under 24 px": page.evaluate(SMALL_TARGETS),
            "words broken": page.evaluate(BROKEN_WORDS),
            "hidden tab stops": hidden_tab_stops(page),
        }
        sizes = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        if sizes[0] > sizes[1]:
            found["sideways scroll"] = [f"the page is {sizes[0]} px in {sizes[1]} px"]
        found["tables cut off"] = page.evaluate(
            "[...document.querySelectorAll('.table-scroll')]"
            ".filter(box => box.scrollWidth > box.clientWidth)"
            ".map(box => `${box.querySelector('caption, th')?.textContent.trim()}:"
            " ${box.scrollWidth} px in ${box.clientWidth} px`)"
        )
        for check, items in found.items():
            if items:
                self.problems[f"{name}: {check}"] = items


@pytest.fixture
def console_data(
    settings, owner: User, other_user: User, staff_user: User, registry: Registry
) -> Registry:
    """Enough to show every part of the pages: credentials enabled and disabled (one by an
    administrator, with a reason), one expiring this week (the banner), two pages of them, some
    narrowed, access keys enabled and disabled, and organizations where the owner holds
    Manage, Read through a group and Edit on one repository."""
    settings.LONG_TERM_PAGE_SIZE = 3
    team = Organization.objects.create_for(registry=registry, name="team-a", by=Actor(user=owner))
    platform = Organization.objects.create_for(
        registry=registry, name="platform.tools_internal-images", by=Actor(user=other_user)
    )
    developers = Group.objects.create(name="developers of the platform team")
    owner.groups.add(developers)
    platform.grant(level=READ, by=Actor(user=other_user), group=developers)
    platform.grant(level=EDIT, by=Actor(user=other_user), user=owner, repository="base/python")
    team.grant(level=READ, by=Actor(user=owner), group=developers, repository="app")
    team.grant(level=EDIT, by=Actor(user=owner), user=other_user)
    new_credential(owner, registry, "ci-bot", expires_at=timezone.now() + timedelta(days=3))
    new_credential(
        owner,
        registry,
        "release-pipeline-production",
        expires_at=None,
        access=ACCESS_PULL,
        organizations=[team, platform],
    )
    stopped, _ = new_credential(owner, registry, "nightly", expires_at=None)
    stopped.disable(by=Actor(user=owner))
    mirror, _ = new_credential(owner, registry, "mirror", expires_at=None)
    mirror.disable(
        by=Actor(user=staff_user), reason="Leaked in a public build log", administrator=True
    )
    AccessKey.objects.create_for(user=owner, by=Actor(user=owner))
    key, _ = AccessKey.objects.create_for(user=owner, by=Actor(user=owner))
    key.disable(by=Actor(user=owner))
    return registry


@pytest.mark.parametrize(
    ("language", "width"), CASES, ids=[f"{lang}-{width}" for lang, width in CASES]
)
def test_every_console_page_passes_axe_targets_words_and_tab_order(
    browser: Browser,
    live_server,
    axe_source: str,
    owner: User,
    console_data: Registry,
    language: str,
    width: int,
) -> None:
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": width, "height": 800},
        locale=LOCALES[language],
        accept_downloads=True,
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    inspection = Inspection(page, axe_source, language, width)
    registry_id = console_data.public_id
    with watch_for_errors(page):
        page.goto(reverse("login"))
        inspection.inspect("sign-in")
        page.locator("#id_username").fill(owner.username)
        page.locator("#id_password").fill(PASSWORD)
        page.locator("#id_password").press("Enter")
        page.wait_for_url("**/")
        inspection.inspect("home")
        page.goto(reverse("registry_overview", args=[registry_id]))
        inspection.inspect("overview")
        page.goto(reverse("long_term_tab", args=[registry_id]))
        inspection.inspect("long-term")
        page.goto(reverse("create_long_term", args=[registry_id]))
        inspection.inspect("long-term-create")
        page.goto(reverse("temporary_tab", args=[registry_id]))
        page.locator(".generate-form button[type=submit]").click()
        expect(page.locator("#temporary-command")).to_be_visible()
        inspection.inspect("temporary")
        page.goto(reverse("password_change"))
        inspection.inspect("change-password")
        page.goto(reverse("organizations", args=[registry_id]))
        inspection.inspect("organizations")
        team = Organization.objects.get(name="team-a")
        page.goto(reverse("organization_users", args=[registry_id, team.public_id]))
        inspection.inspect("organization-users")
        page.goto(reverse("organization_repositories", args=[registry_id, team.public_id]))
        inspection.inspect("organization-repositories")
        page.goto(
            reverse("add_permission", args=[registry_id, team.public_id]) + "?tab=repositories"
        )
        inspection.inspect("add-permission")
        page.goto(reverse("my_permissions", args=[registry_id]))
        inspection.inspect("my-permissions")
        page.goto(reverse("access_keys"))
        inspection.inspect("access-keys")
        if width < 720:  # a phone: each key a card, each cell under its column's name
            shown = page.locator("#key-table td").evaluate_all(
                "cells => cells.map(cell => getComputedStyle(cell).display)"
            )
            if set(shown) - {"grid", "flex"}:
                inspection.problems["access-keys: not cards"] = sorted(set(shown))
    context.close()
    assert not inspection.problems, "\n".join(
        f"{where}: {items}" for where, items in inspection.problems.items()
    )
