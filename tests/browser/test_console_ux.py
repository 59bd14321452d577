"""The console as people use it: English and Chinese, desktop (1440×900) and phone (390×844)
widths, by keyboard and screen reader (axe-core), for the long-term and temporary flows.
Screenshots go to test-artifacts/screenshots/ux-<language>-<width>-<step>.png."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from credentials.models import LongTermCredential, Registry, User
from tests.browser.helpers import (
    assert_no_horizontal_scroll,
    axe_violations,
    screenshot,
    watch_for_errors,
)
from tests.helpers import PASSWORD, SEEN_SECRETS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.split_across_passes,
]

VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
# The browser's own language: the console follows its Accept-Language.
BROWSER_LOCALES = {"en": "en-US", "zh-hans": "zh-CN"}
WORDS = {
    "en": {
        "username": "Username",
        "password": "Password",
        "sign_in": "Sign in",
        "registry_nav": "Registry",
        "access": "Access Credentials",
        "long_term": "Long-Term Credentials",
        "temporary": "Temporary Credentials",
        "create": "Create Long-Term Credential",
        "name": "Credential Name",
        "ok": "OK",
        "name_rule": "lowercase letters",
        "enabled": "Enabled",
        "disabled": "Disabled",
        "never": "Never",
        "disable": "Disable",
        "enable": "Enable",
        "delete": "Delete",
        "delete_title": "Delete Long-Term Credential",
        "disable_title": "Disable Long-Term Credential",
        "deleted": "is deleted",
        "empty": "You have no long-term credentials for this registry yet.",
        "generate": "Generate a temporary access credential",
        "image": "Image",
        "copy": "Copy",
        "skip": "Skip to main content",
        "search": "Search by name",
        "no_match": "No credential matches your search.",
        "used": "1 of 100 long-term credentials used",
        "log": "Issued to you in the last 24 hours",
    },
    "zh-hans": {
        "username": "用户名",
        "password": "密码",
        "sign_in": "登录",
        "registry_nav": "镜像仓库",
        "access": "访问凭证",
        "long_term": "长期访问凭证",
        "temporary": "临时访问凭证",
        "create": "创建长期访问凭证",
        "name": "凭证名称",
        "ok": "确定",
        "name_rule": "小写字母",
        "enabled": "已启用",
        "disabled": "已禁用",
        "never": "从未使用",
        "disable": "禁用",
        "enable": "启用",
        "delete": "删除",
        "delete_title": "删除长期访问凭证",
        "disable_title": "禁用长期访问凭证",
        "deleted": "已删除",
        "empty": "您在此镜像仓库还没有长期访问凭证。",
        "generate": "生成临时访问凭证",
        "image": "镜像",
        "copy": "复制",
        "skip": "跳到主要内容",
        "search": "按名称搜索",
        "no_match": "没有与搜索条件匹配的凭证。",
        "used": "已使用 1 个长期访问凭证，上限 100 个",
        "log": "最近 24 小时内为您生成的临时访问凭证",
    },
}
CASES = [(language, width) for language in WORDS for width in VIEWPORTS]


class Visit:
    """One language at one width: its page, its words, and the checks made at each step."""

    def __init__(self, page: Page, language: str, width: str, axe_source: str) -> None:
        self.page, self.language, self.width = page, language, width
        self.words = WORDS[language]
        self._axe = axe_source

    def check(self, step: str) -> None:
        """No axe violation above minor, no horizontal scroll; a screenshot."""
        name = f"ux-{self.language}-{self.width}-{step}"
        screenshot(self.page, name)
        assert axe_violations(self.page, self._axe, name) == [], step
        assert_no_horizontal_scroll(self.page)

    def sign_in(self, user: User) -> None:
        page, words = self.page, self.words
        page.goto("/accounts/login/")
        expect(page.locator("html")).to_have_attribute("lang", self.language)
        self.check("sign-in")
        page.get_by_label(words["username"]).fill(user.username)
        page.get_by_label(words["password"]).fill(PASSWORD)
        page.get_by_role("button", name=words["sign_in"]).click()
        page.wait_for_url("**/")

    def open_access_credentials(self) -> None:
        page, words = self.page, self.words
        self.check("home")
        page.get_by_role("link", name="default").click()
        self.check("registry-overview")
        page.get_by_role("navigation", name=words["registry_nav"]).get_by_role(
            "link", name=words["access"]
        ).click()
        expect(page.get_by_role("heading", name=words["access"], exact=True)).to_be_visible()


@pytest.fixture(params=CASES, ids=[f"{language}-{width}" for language, width in CASES])
def visit(
    request: pytest.FixtureRequest, browser: Browser, live_server, axe_source: str
) -> Iterator[Visit]:
    language, width = request.param
    context = browser.new_context(
        base_url=live_server.url,
        accept_downloads=True,
        viewport=VIEWPORTS[width],
        locale=BROWSER_LOCALES[language],
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    with watch_for_errors(page):
        yield Visit(page, language, width, axe_source)
    context.close()


def row(page: Page, name: str):
    # As a card on a phone, a cell's name starts with its column's (CSS generated) label.
    return page.locator(f"tr[role=row][data-credential='{name}']")


def test_long_term_flow(visit: Visit, owner: User, registry: Registry) -> None:
    page, words = visit.page, visit.words
    visit.sign_in(owner)
    visit.open_access_credentials()
    expect(page.get_by_text(words["empty"])).to_be_visible()
    visit.check("long-term-empty")

    # The skip link is the first stop of the keyboard and lands on the page's content.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name=words["skip"])
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()

    page.get_by_role("link", name=words["create"]).click()
    dialog = page.get_by_role("dialog", name=words["create"])
    expect(dialog.get_by_label(words["name"])).to_be_focused()
    visit.check("create-dialog")
    dialog.get_by_label(words["name"]).fill("CI Bot")
    dialog.get_by_role("button", name=words["ok"]).click()
    expect(dialog.get_by_role("alert")).to_contain_text(words["name_rule"])
    visit.check("create-error")

    dialog.get_by_label(words["name"]).fill("ci-bot")
    with page.expect_download() as download_info:
        dialog.get_by_role("button", name=words["ok"]).click()
    with open(download_info.value.path(), encoding="utf-8") as handle:
        header, values = list(csv.reader(io.StringIO(handle.read())))
    assert header[:3] == ["Credential Name", "Username", "Password"]  # for machines: English
    SEEN_SECRETS.append(values[2])
    expect(dialog).to_have_count(0)
    # Announced: the live region names the file that downloaded.
    expect(page.locator("#messages[aria-live=polite] [role=status]")).to_contain_text("ci-bot.csv")
    created = row(page, "ci-bot")
    expect(created).to_contain_text(words["enabled"])
    expect(created).to_contain_text(words["never"])
    expect(page.locator(".list-summary")).to_contain_text(words["used"])
    visit.check("long-term-created")

    # Search as you type; the box keeps the focus while the list changes under it.
    search = page.get_by_label(words["search"])
    search.fill("nothing-like-it")
    expect(page.get_by_text(words["no_match"])).to_be_visible()
    expect(search).to_be_focused()
    expect(page).to_have_url(re.compile(r"\?q=nothing-like-it(&|$)"))
    visit.check("long-term-no-match")
    search.fill("ci")
    expect(row(page, "ci-bot")).to_be_visible()

    created.get_by_role("button", name=words["disable"]).click()
    page.get_by_role("dialog", name=words["disable_title"]).get_by_role(
        "button", name=words["disable"]
    ).click()
    expect(row(page, "ci-bot")).to_contain_text(words["disabled"])
    expect(row(page, "ci-bot").get_by_role("button", name=words["enable"])).to_be_focused()
    visit.check("long-term-disabled")
    page.keyboard.press("Enter")  # Enable, from the keyboard
    expect(row(page, "ci-bot")).to_contain_text(words["enabled"])
    expect(row(page, "ci-bot").get_by_role("button", name=words["disable"])).to_be_focused()

    row(page, "ci-bot").get_by_role("link", name=words["delete"]).click()
    confirm = page.get_by_role("dialog", name=words["delete_title"])
    expect(confirm).to_contain_text("ci-bot")
    visit.check("delete-dialog")
    confirm.get_by_role("button", name=words["delete"]).click()
    expect(page.get_by_text(words["no_match"])).to_be_visible()  # still searching for "ci"
    expect(page.locator("#messages [role=status]")).to_contain_text(words["deleted"])
    expect(page.locator("#messages [role=status]")).to_be_focused()  # what the delete did
    visit.check("long-term-deleted")
    assert LongTermCredential.objects.count() == 0


def test_temporary_flow(visit: Visit, owner: User, registry: Registry) -> None:
    page, words = visit.page, visit.words
    visit.sign_in(owner)
    visit.open_access_credentials()
    page.get_by_role("link", name=words["temporary"]).click()
    current = page.get_by_role("link", name=words["temporary"])
    expect(current).to_have_attribute("aria-current", "page")
    expect(current).to_be_focused()
    visit.check("temporary-tab")

    page.get_by_role("radio", name=words["image"]).check()
    page.get_by_role("button", name=words["generate"]).click()
    command = page.locator("#temporary-command")
    expect(command).to_contain_text("docker login -u cn-north-4@")
    SEEN_SECRETS.append(command.inner_text().split()[5])
    expect(page.locator("#temporary-result h2")).to_be_focused()
    expect(
        page.locator("#temporary-result").get_by_role("button", name=words["copy"]).first
    ).to_be_visible()
    log = page.get_by_role("region", name=words["log"])
    expect(log.get_by_role("row")).to_have_count(2)  # its header and the one just issued
    expect(log).to_contain_text(words["image"])
    visit.check("temporary-generated")
