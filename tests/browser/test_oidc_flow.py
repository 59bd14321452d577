"""Sign-in with the company's identity provider, in Chromium against a real OpenID provider
(npm's oidc-provider on loopback): first sign-in, federated refusal of long-term credentials,
roles from groups, sign-out at the provider, removal there within OIDC_RENEW_SECONDS, a bad
ID token, each page axe-clean and 360 px wide in both languages."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from playwright.sync_api import Browser, Page, expect

from credentials.models import AuditEvent, User
from credentials.rules import READ
from tests.browser.helpers import (
    assert_no_horizontal_scroll,
    axe_violations,
    screenshot,
    watch_for_errors,
)
from tests.helpers import make_user, permit
from tests.oidc_provider import OidcProvider, running_provider, use_provider
from tests.servers import free_port

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def browser_provider(live_server) -> Iterator[OidcProvider]:
    with running_provider(live_server.url, "oidc-provider-browser") as provider:
        yield provider


@pytest.fixture
def provider(browser_provider: OidcProvider, settings) -> Iterator[OidcProvider]:
    use_provider(settings, browser_provider)
    yield browser_provider
    browser_provider.stop_tampering()


@pytest.fixture
def sso_page(browser: Browser, live_server, provider: OidcProvider) -> Iterator[Page]:
    """A page whose context serves the provider's web font import as empty CSS (no network
    here; the provider's development pages import one)."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 360, "height": 800})
    context.set_default_timeout(15_000)
    context.route(
        "https://fonts.googleapis.com/**",
        lambda route: route.fulfill(body="", content_type="text/css"),
    )
    page = context.new_page()
    with watch_for_errors(page):
        yield page
    context.close()


def sign_in_at_provider(
    page: Page, login: str, *, language: str = "en", signed_in_there: bool = False
) -> None:
    """The console's button, then the provider's login form (unless its session is alive)."""
    page.goto("/accounts/login/", referer=None)
    button = "Sign in with Example SSO" if language == "en" else "使用 Example SSO 登录"
    page.get_by_role("link", name=button).click()
    if signed_in_there:
        return
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password")
    page.locator("button[type=submit]").click()


def assert_clean(page: Page, axe_source: str, name: str) -> None:
    assert_no_horizontal_scroll(page)
    assert axe_violations(page, axe_source, name) == []
    screenshot(page, name)


def test_a_first_sign_in_creates_a_federated_user_who_gets_temporary_credentials_only(
    sso_page: Page, provider: OidcProvider, registry, axe_source: str
) -> None:
    page = sso_page
    page.goto("/accounts/login/")
    assert_clean(page, axe_source, "oidc-sign-in-page-360")
    provider.put_user("wendy", groups=["developers"], name="Wendy Darling")
    sign_in_at_provider(page, "wendy")
    page.wait_for_url("**/")
    expect(page.get_by_text("wendy")).to_be_visible()
    user = User.objects.get(username="wendy")
    assert user.is_federated
    page.goto(f"/registries/{registry.public_id}/access-credentials/long-term/")
    expect(page.get_by_role("note")).to_contain_text("Federated users cannot")
    assert_clean(page, axe_source, "oidc-federated-long-term-360")
    assert not user.long_term_credentials.exists()


def test_roles_come_from_the_providers_groups(
    sso_page: Page, provider: OidcProvider, registry
) -> None:
    page = sso_page
    provider.put_user("xena", groups=["swr-admins"])
    sign_in_at_provider(page, "xena")
    page.wait_for_url("**/")
    page.goto("/admin/")
    expect(page.get_by_role("link", name="Audit events")).to_be_visible()
    assert User.objects.get(username="xena").is_superuser


def test_sign_out_ends_the_session_at_the_provider_too(
    sso_page: Page, provider: OidcProvider
) -> None:
    page = sso_page
    provider.put_user("yuri", groups=[])
    sign_in_at_provider(page, "yuri")
    page.wait_for_url("**/")
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Yes, sign me out").click()
    page.wait_for_url("**/accounts/login/**")
    page.get_by_role("link", name="Sign in with Example SSO").click()
    expect(page.locator("input[name=login]")).to_be_visible()  # the provider asks again


def test_a_user_removed_at_the_provider_is_signed_out_within_the_renewal_interval(
    sso_page: Page, provider: OidcProvider, axe_source: str
) -> None:
    page = sso_page
    provider.put_user("zoe", groups=[])
    sign_in_at_provider(page, "zoe")
    page.wait_for_url("**/")
    provider.remove_user("zoe")
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=901), tick=True):
        page.goto("/")
        page.wait_for_url("**/accounts/login/**")
    expect(page.get_by_text("no longer accepts your account")).to_be_visible()
    assert_clean(page, axe_source, "oidc-removed-signed-out-360")
    assert not User.objects.get(username="zoe").is_active


def test_a_bad_id_token_is_a_clear_page_in_both_languages(
    sso_page: Page, provider: OidcProvider, axe_source: str, live_server
) -> None:
    page = sso_page
    provider.put_user("abel", groups=[])
    provider.tamper(claims={"aud": "another-client"})
    sign_in_at_provider(page, "abel")
    expect(page.get_by_role("heading", name="Sign-in refused")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("issued for another client")
    assert_clean(page, axe_source, "oidc-refused-en-360")
    page.context.add_cookies(
        [{"name": "django_language", "value": "zh-hans", "url": live_server.url}]
    )
    sign_in_at_provider(page, "abel", language="zh-hans", signed_in_there=True)
    expect(page.get_by_role("heading", name="登录被拒绝")).to_be_visible()
    assert_clean(page, axe_source, "oidc-refused-zh-360")
    assert not User.objects.filter(username="abel").exists()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.OIDC_SIGN_IN_REFUSED).count() == 2


def test_an_auditor_from_the_providers_group_reads_the_trail_and_a_group_grant_applies(
    sso_page: Page, provider: OidcProvider, registry, axe_source: str, auditor: User
) -> None:
    """(`auditor`: the Auditors group as the migrations make it, after a flush.)"""
    page = sso_page
    provider.put_user("beth", groups=["swr-auditors", "team-a-readers"])
    sign_in_at_provider(page, "beth")
    page.wait_for_url("**/")
    permit(registry, "team-a", READ, group=Group.objects.get(name="team-a-readers"))
    page.goto(f"/registries/{registry.public_id}/my-permissions/")
    expect(page.get_by_role("main")).to_contain_text("team-a")
    assert_clean(page, axe_source, "oidc-group-permission-360")
    page.goto("/admin/credentials/auditevent/")
    expect(page.locator("#result_list")).to_contain_text("Role changed by the identity provider")
    assert not User.objects.get(username="beth").is_superuser


# Each ID token the provider re-signs wrongly, and what the refusal page says of it.
BAD_ID_TOKENS = [
    ("issuer", {"claims": {"iss": "https://impostor.example"}}, "comes from another issuer"),
    ("nonce", {"claims": {"nonce": "another-nonce"}}, "its nonce differs"),
    ("expired", {"claims": {"exp": 1_000_000_000, "iat": 999_999_000}}, "has expired"),
    ("unknown-key", {"unknown_key": True}, "not signed by one of its published keys"),
    ("no-sub", {"remove": ["sub"]}, "does not name the user"),
    ("groups-not-a-list", {"claims": {"groups": "developers"}}, "not a list of group names"),
    (
        "1000-groups",
        {"claims": {"groups": [f"group-{n}" for n in range(1000)]}},
        "more groups for you",
    ),
]


def test_each_bad_id_token_is_a_clear_page_and_changes_nothing(
    sso_page: Page, provider: OidcProvider, axe_source: str
) -> None:
    # One flow for all (not parameters: the suite's browser variants are languages and widths).
    page = sso_page
    provider.put_user("carl", groups=[])
    for number, (name, tamper, message) in enumerate(BAD_ID_TOKENS):
        provider.tamper(**tamper)
        sign_in_at_provider(page, "carl", signed_in_there=number > 0)
        expect(page.get_by_role("heading", name="Sign-in refused")).to_be_visible()
        expect(page.get_by_role("alert")).to_contain_text(message)
        assert_clean(page, axe_source, f"oidc-refused-{name}-360")
    assert not User.objects.filter(username="carl").exists()
    assert AuditEvent.objects.filter(action=AuditEvent.Action.OIDC_SIGN_IN_REFUSED).count() == 7


def test_a_forged_or_replayed_callback_and_an_unreachable_provider_are_clear_pages(
    sso_page: Page, provider: OidcProvider, settings, axe_source: str
) -> None:
    page = sso_page
    provider.put_user("dora", groups=[])
    callbacks: list[str] = []
    page.on(
        "request",
        lambda request: callbacks.append(request.url) if "/oidc/callback/" in request.url else None,
    )
    sign_in_at_provider(page, "dora")
    page.wait_for_url("**/")
    page.goto(callbacks[-1])  # the same answer again
    expect(page.get_by_role("alert")).to_contain_text("expired or was already used")
    page.goto("/oidc/callback/?code=forged&state=forged")
    expect(page.get_by_role("alert")).to_contain_text("expired or was already used")
    assert_clean(page, axe_source, "oidc-refused-state-360")
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Yes, sign me out").click()  # the provider's page
    page.wait_for_url("**/accounts/login/**")
    settings.OIDC = replace(settings.OIDC, issuer=f"http://127.0.0.1:{free_port()}")
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Sign in with Example SSO").click()
    expect(page.get_by_role("alert")).to_contain_text("cannot be reached")
    assert_clean(page, axe_source, "oidc-unreachable-360")
    assert list(
        AuditEvent.objects.filter(action=AuditEvent.Action.OIDC_SIGN_IN_REFUSED).values_list(
            "detail__reason", flat=True
        )
    ) == ["unreachable", "state", "state"]


def test_a_local_account_with_the_same_username_is_kept_and_the_new_user_told(
    sso_page: Page, provider: OidcProvider
) -> None:
    page = sso_page
    make_user("emil")
    provider.put_user("emil", groups=[])
    sign_in_at_provider(page, "emil")
    page.wait_for_url("**/")
    expect(page.get_by_text("The username emil belongs to another account here")).to_be_visible()
    assert User.objects.get(federated_identity__subject="emil").username == "emil-2"
