"""Organizations and permissions in Chromium, in English and Chinese, at a desktop's and a
phone's width: create an organization (a bad name first), give a user Edit on it and Manage
on one repository, create a long-term credential that may only pull in it, and read My
Permissions as the creator and as that user. Each step is
axe-clean, scrolls nothing sideways and is screenshotted (organizations-<language>-<width>-*);
the dialogs are used by keyboard. Without JavaScript the same forms work as pages."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from credentials.models import Organization, Registry, User
from credentials.rules import EDIT, MANAGE
from tests.browser.helpers import (
    assert_no_horizontal_scroll,
    axe_violations,
    read_download,
    screenshot,
    watch_for_errors,
)
from tests.helpers import PASSWORD, SEEN_SECRETS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
LOCALES = {"en": "en-US", "zh-hans": "zh-CN"}
WORDS = {
    "en": {
        "username": "Username",
        "password": "Password",
        "sign_in": "Sign in",
        "registry_nav": "Registry",
        "organizations": "Organizations",
        "create": "Create Organization",
        "name": "Organization Name",
        "ok": "OK",
        "bad_name": "The name contains “T”, “A”, a space.",
        "created": "Organization “team-a” is created. You hold the Manage permission on it.",
        "manage": "Manage",
        "edit": "Edit",
        "users": "Users",
        "repositories": "Repository Permissions",
        "add": "Add Permission",
        "grantee": "User or group name",
        "repository": "Repository",
        "granted_edit": "User “bob” now has the Edit permission on team-a.",
        "granted_manage": "User “bob” now has the Manage permission on team-a/app.",
        "my_permissions": "My Permissions",
        "mine": "Where you hold a permission",
        "you_manage": "you (Manage)",
        "you_edit": "you (Edit)",
        "delete": "Delete",
        "no_repository_grant": "No permission is given on a single repository of this organization.",
        "access": "Access Credentials",
        "create_credential": "Create Long-Term Credential",
        "credential_name": "Credential Name",
        "organizations_to_allow": "Organizations to allow",
        "pull_only": "Pull only",
        "only_chosen": "Only the organizations I choose",
        "pull_only_team_a": "Pull only · team-a",
        "credentials_table": "Your long-term credentials and where each may pull and push",
        "team_a_pull": "team-a: pull",
    },
    "zh-hans": {
        "username": "用户名",
        "password": "密码",
        "sign_in": "登录",
        "registry_nav": "镜像仓库",
        "organizations": "组织",
        "create": "创建组织",
        "name": "组织名称",
        "ok": "确定",
        "bad_name": "名称包含 “T”、“A”、空格。",
        "created": "组织“team-a”已创建。您拥有该组织的管理权限。",
        "manage": "管理",
        "edit": "编辑",
        "users": "用户",
        "repositories": "镜像权限",
        "add": "添加授权",
        "grantee": "用户名或用户组名称",
        "repository": "镜像",
        "granted_edit": "用户“bob” 现在拥有 team-a 的编辑权限。",
        "granted_manage": "用户“bob” 现在拥有 team-a/app 的管理权限。",
        "my_permissions": "我的权限",
        "mine": "您拥有权限的位置",
        "you_manage": "您本人（管理）",
        "you_edit": "您本人（编辑）",
        "delete": "删除",
        "no_repository_grant": "此组织中没有针对单个镜像的权限。",
        "access": "访问凭证",
        "create_credential": "创建长期访问凭证",
        "credential_name": "凭证名称",
        "organizations_to_allow": "允许的组织",
        "pull_only": "仅拉取",
        "only_chosen": "仅我选择的组织",
        "pull_only_team_a": "仅拉取 · team-a",
        "credentials_table": "您的长期访问凭证及各自可拉取和推送的位置",
        "team_a_pull": "team-a: 拉取",
    },
}
CASES = [(language, width) for language in WORDS for width in VIEWPORTS]


class Visit:
    """One user in one language at one width; each step checked and screenshotted."""

    def __init__(self, browser: Browser, live_server, axe: str, language: str, width: str):
        self.context = browser.new_context(
            base_url=live_server.url, viewport=VIEWPORTS[width], locale=LOCALES[language]
        )
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.language, self.width, self.axe = language, width, axe
        self.words = WORDS[language]

    def check(self, step: str) -> None:
        name = f"organizations-{self.language}-{self.width}-{step}"
        screenshot(self.page, name)
        assert axe_violations(self.page, self.axe, name) == [], step
        assert_no_horizontal_scroll(self.page)

    def sign_in(self, user: User) -> None:
        page, words = self.page, self.words
        page.goto("/accounts/login/")
        page.get_by_label(words["username"]).fill(user.username)
        page.get_by_label(words["password"]).fill(PASSWORD)
        page.get_by_role("button", name=words["sign_in"]).click()
        page.wait_for_url("**/")
        page.get_by_role("link", name="default").first.click()

    def pane_link(self, name: str) -> None:
        pane = self.page.get_by_role("navigation", name=self.words["registry_nav"])
        pane.get_by_role("link", name=name, exact=True).click()
        expect(self.page.get_by_role("heading", level=1, name=name)).to_be_visible()

    def message(self, text: str) -> None:
        """The live region says `text`, and the focus is on it (the dialog has closed)."""
        message = self.page.locator("#messages .message")
        expect(message).to_have_text(text)
        expect(message).to_be_focused()


@pytest.mark.split_across_passes
@pytest.mark.parametrize(("language", "width"), CASES, ids=[f"{lang}-{w}" for lang, w in CASES])
def test_create_an_organization_add_permissions_and_read_my_permissions(
    browser: Browser,
    live_server,
    axe_source: str,
    owner: User,
    other_user: User,
    registry: Registry,
    language: str,
    width: str,
) -> None:
    alice = Visit(browser, live_server, axe_source, language, width)
    words, page = alice.words, alice.page
    with watch_for_errors(page):
        alice.sign_in(owner)
        alice.pane_link(words["organizations"])
        alice.check("empty-list")

        # Create Organization, by keyboard: a bad name first, then a good one.
        page.get_by_role("link", name=words["create"]).click()
        dialog = page.get_by_role("dialog", name=words["create"])
        name = dialog.get_by_label(words["name"])
        expect(name).to_be_focused()
        alice.check("create-dialog")
        page.keyboard.type("Team A")
        page.keyboard.press("Enter")
        expect(dialog.get_by_text(words["bad_name"])).to_be_visible()
        expect(name).to_have_attribute("aria-invalid", "true")
        expect(name).to_be_focused()
        alice.check("create-refused")
        name.fill("team-a")
        page.keyboard.press("Enter")
        alice.message(words["created"])
        team_link = page.get_by_role("link", name="team-a", exact=True)
        row = page.get_by_role("row").filter(has=team_link)
        expect(row).to_contain_text(words["manage"])
        expect(row.get_by_role("link", name=words["delete"])).to_be_visible()
        alice.check("list")

        # The organization's Users tab: Add Permission gives bob Edit.
        row.get_by_role("link", name="team-a", exact=True).click()
        expect(page.get_by_role("heading", level=1, name="team-a")).to_be_visible()
        expect(page.get_by_role("link", name=words["users"])).to_have_attribute(
            "aria-current", "page"
        )
        page.get_by_role("link", name=words["add"]).click()
        dialog = page.get_by_role("dialog", name=words["add"])
        expect(dialog.get_by_label(words["grantee"])).to_be_focused()
        page.keyboard.type("bob")
        dialog.get_by_role("radio", name=words["edit"]).check()
        alice.check("add-permission-dialog")
        dialog.get_by_role("button", name=words["ok"]).click()
        alice.message(words["granted_edit"])
        expect(page.get_by_role("row").filter(has_text="bob")).to_contain_text(words["edit"])
        alice.check("users-tab")

        # Repository Permissions: bob gets Manage on team-a/app.
        tab = page.get_by_role("link", name=words["repositories"])
        tab.click()
        expect(tab).to_have_attribute("aria-current", "page")  # the tab has been swapped in
        expect(tab).to_be_focused()
        expect(page.get_by_text(words["no_repository_grant"])).to_be_visible()
        page.get_by_role("link", name=words["add"]).click()
        dialog = page.get_by_role("dialog", name=words["add"])
        dialog.get_by_label(words["grantee"]).fill("bob")
        dialog.get_by_label(words["repository"], exact=True).fill("app")
        dialog.get_by_role("radio", name=words["manage"]).check()
        dialog.get_by_role("button", name=words["ok"]).click()
        alice.message(words["granted_manage"])
        expect(page.get_by_role("row").filter(has_text="team-a/app")).to_contain_text("bob")
        alice.check("repositories-tab")

        # A long-term credential that may only pull, and only in team-a.
        alice.pane_link(words["access"])
        page.get_by_role("link", name=words["create_credential"]).click()
        dialog = page.get_by_role("dialog", name=words["create_credential"])
        dialog.get_by_label(words["credential_name"]).fill("ci-pull")
        chosen = dialog.get_by_role("group", name=words["organizations_to_allow"])
        expect(chosen).to_be_hidden()  # until "Only the organizations I choose"
        dialog.get_by_role("radio", name=words["pull_only"]).check()
        dialog.get_by_role("radio", name=words["only_chosen"]).check()
        expect(chosen).to_be_visible()
        chosen.get_by_role("checkbox", name="team-a").check()
        alice.check("create-credential-dialog")
        with page.expect_download() as download:
            dialog.get_by_role("button", name=words["ok"]).click()
        SEEN_SECRETS.append(read_download(download.value)[1][2])
        row = page.get_by_role("row").filter(has=page.get_by_role("cell", name="ci-pull"))
        expect(row).to_contain_text(words["pull_only_team_a"])
        alice.check("credential-listed")

        alice.pane_link(words["my_permissions"])
        credentials = page.get_by_role("table", name=words["credentials_table"])
        expect(credentials.get_by_role("row").filter(has_text="ci-pull")).to_contain_text(
            words["team_a_pull"]
        )
        table = page.get_by_role("table", name=words["mine"])
        expect(table.get_by_role("row").filter(has_text="team-a")).to_contain_text(
            words["you_manage"]
        )
        alice.check("my-permissions")
    alice.context.close()

    organization = Organization.objects.get(registry=registry, name="team-a")
    assert organization.level_of(other_user) == EDIT
    assert organization.level_of(other_user, "app") == MANAGE

    bob = Visit(browser, live_server, axe_source, language, width)
    with watch_for_errors(bob.page):
        bob.sign_in(other_user)
        bob.pane_link(bob.words["my_permissions"])
        table = bob.page.get_by_role("table", name=bob.words["mine"])
        rows = table.get_by_role("row")
        expect(rows.filter(has_text="team-a/app")).to_contain_text(bob.words["manage"])
        expect(rows.filter(has_text="team-a").first).to_contain_text(bob.words["you_edit"])
        bob.check("my-permissions-member")
        bob.pane_link(bob.words["organizations"])
        expect(bob.page.get_by_role("link", name=bob.words["delete"])).to_have_count(0)
    bob.context.close()


def test_without_javascript_an_organization_is_created_and_a_permission_added(
    no_js_page: Page, owner: User, other_user: User, registry: Registry
) -> None:
    page = no_js_page
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(owner.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="default").first.click()
    page.get_by_role("navigation", name="Registry").get_by_role(
        "link", name="Organizations"
    ).click()
    page.get_by_role("link", name="Create Organization").click()
    dialog = page.get_by_role("dialog", name="Create Organization")
    dialog.get_by_label("Organization Name").fill("team-a")
    dialog.get_by_role("button", name="OK").click()
    expect(page.get_by_role("status")).to_have_text(
        "Organization “team-a” is created. You hold the Manage permission on it."
    )
    page.get_by_role("link", name="team-a", exact=True).click()
    page.get_by_role("link", name="Add Permission").click()
    dialog = page.get_by_role("dialog", name="Add Permission")
    dialog.get_by_label("User or group name").fill("nobody")
    dialog.get_by_role("button", name="OK").click()
    expect(page.get_by_text("There is no active user “nobody”.")).to_be_visible()
    dialog = page.get_by_role("dialog", name="Add Permission")
    dialog.get_by_label("User or group name").fill("bob")
    dialog.get_by_role("radio", name="Read").check()
    dialog.get_by_role("button", name="OK").click()
    expect(page.get_by_role("status")).to_have_text(
        "User “bob” now has the Read permission on team-a."
    )
    screenshot(page, "organizations-no-js-users-tab")
    assert Organization.objects.get(name="team-a").level_of(other_user) == 1
