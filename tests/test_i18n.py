"""Two languages: Accept-Language by default, the top bar's switch remembered in a cookie,
`<html lang>` right, region names and dates in one format with their time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from credentials import timestamps
from credentials.models import Registry, User
from tests.helpers import make_credential, new_credential, op_url, tab_url

pytestmark = pytest.mark.django_db


def test_english_by_default_and_chinese_when_the_browser_asks(
    owner_client: Client, registry: Registry
) -> None:
    english = owner_client.get(tab_url(registry)).content.decode()
    assert '<html lang="en">' in english
    assert "Create Long-Term Credential" in english

    chinese = owner_client.get(tab_url(registry), headers={"accept-language": "zh-CN,zh;q=0.9"})
    page = chinese.content.decode()
    assert '<html lang="zh-hans">' in page
    assert "创建长期访问凭证" in page
    assert "长期访问凭证" in page
    assert "临时访问凭证" in page
    assert "华北-北京四" in page  # the region selector names Huawei's region in Chinese
    assert "Create Long-Term Credential" not in page
    assert chinese["Content-Language"] == "zh-hans"


def test_the_switch_is_remembered_over_accept_language(
    owner_client: Client, registry: Registry
) -> None:
    response = owner_client.post(
        reverse("set_language"), {"language": "zh-hans", "next": tab_url(registry)}
    )
    assert response.status_code == 302
    assert response["Location"] == tab_url(registry)
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "zh-hans"
    assert cookie["max-age"] == settings.LANGUAGE_COOKIE_AGE
    assert cookie["httponly"]

    page = owner_client.get(tab_url(registry), headers={"accept-language": "en"}).content.decode()
    assert "创建长期访问凭证" in page

    owner_client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = owner_client.get(tab_url(registry), headers={"accept-language": "zh"}).content.decode()
    assert "Create Long-Term Credential" in page


def test_an_unknown_language_changes_nothing(
    owner: User, owner_client: Client, registry: Registry
) -> None:
    response = owner_client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert "Create Long-Term" in owner_client.get(tab_url(registry)).content.decode()
    owner.refresh_from_db()
    assert owner.language == ""  # e-mails stay in the default language


def test_the_switch_is_also_the_language_of_a_users_e_mails(
    owner: User, owner_client: Client, client: Client
) -> None:
    owner_client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    owner.refresh_from_db()
    assert owner.language == "zh-hans"
    owner_client.post(reverse("set_language"), {"language": "en", "next": "/"})
    owner.refresh_from_db()
    assert owner.language == "en"
    # Signed out, the switch sets the cookie only.
    assert client.post(reverse("set_language"), {"language": "zh-hans"}).status_code == 302
    assert list(User.objects.exclude(language="").values_list("language", flat=True)) == ["en"]


def switch(client: Client, next_url: str) -> str:
    """Where the language switch sends the browser back to, from `next_url`."""
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": next_url})
    assert response.status_code == 302
    return response["Location"]


def test_the_switch_on_a_generate_result_returns_to_the_temporary_tab(
    owner_client: Client, registry: Registry
) -> None:
    generate = reverse("generate_temporary", args=[registry.public_id])
    temporary = reverse("temporary_tab", args=[registry.public_id])
    assert switch(owner_client, generate) == temporary
    page = owner_client.get(temporary)
    assert page.status_code == 200
    assert "临时访问凭证" in page.content.decode()


def test_the_switch_without_next_returns_from_a_result_page_by_its_referer(
    owner_client: Client, registry: Registry
) -> None:
    """With no `next`, Django falls back to the Referer, an absolute URL: the same rule holds."""
    generate = reverse("generate_temporary", args=[registry.public_id])
    response = owner_client.post(
        reverse("set_language"),
        {"language": "zh-hans"},
        headers={"referer": f"http://testserver{generate}"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("temporary_tab", args=[registry.public_id])


def test_the_switch_after_a_long_term_action_returns_to_the_long_term_tab(
    owner_client: Client, owner: User, registry: Registry
) -> None:
    credential = make_credential(owner, registry, "ci-bot")
    assert switch(owner_client, op_url("enable", credential)) == tab_url(registry)
    assert switch(owner_client, reverse("long_term_tab", args=[registry.public_id])) == tab_url(
        registry
    )


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/registries/x/access-credentials/long-term/?q=ci&page=2", None),  # a 404: home
        ("/my-credentials/access-keys/00000000-0000-0000-0000-000000000000/enable/", "keys"),
        ("/accounts/logout/", "/"),
        ("/i18n/setlang/", "/"),
        ("/my-credentials/access-keys/?x=1", "same"),
    ],
)
def test_the_switch_goes_to_the_nearest_page_that_answers_get(
    owner_client: Client, next_url: str, expected: str | None
) -> None:
    want = {"keys": "/my-credentials/access-keys/", "same": next_url, None: "/"}.get(
        expected, expected
    )
    location = switch(owner_client, next_url)
    assert location == want
    assert owner_client.get(location).status_code in (200, 302)


def test_a_page_that_answers_get_is_returned_to_with_its_query(
    owner_client: Client, registry: Registry
) -> None:
    url = tab_url(registry) + "?q=ci&sort=name"
    assert switch(owner_client, url) == url


def test_the_two_nevers_are_told_apart_in_chinese(
    owner_client: Client, owner: User, registry: Registry
) -> None:
    new_credential(owner, registry, "ci-bot", expires_at=None)
    owner_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    page = owner_client.get(tab_url(registry)).content.decode()
    assert '<td role="cell" data-label="过期时间">永不过期</td>' in page
    assert '<span class="muted">从未使用</span>' in page
    dialog = owner_client.get(
        reverse("create_long_term", args=[registry.public_id]), headers={"HX-Request": "true"}
    ).content.decode()
    validity = dialog[dialog.index("<select") : dialog.index("</select>")]
    assert '<option value="never" selected>永不过期</option>' in validity
    assert "从未使用" not in dialog
    assert "选择“永不过期”则永久有效" in page  # the help text names the option as it reads


def test_the_sign_in_page_has_the_switch_too(client: Client) -> None:
    page = client.get(reverse("login"), headers={"accept-language": "zh-hans"}).content.decode()
    # The fragment brings the focus back to the picker on the page the switch returns to.
    assert 'action="/i18n/setlang/#language-select"' in page
    assert "<h1>登录</h1>" in page
    assert '<option value="zh-hans" lang="zh-hans" selected>简体中文</option>' in page


def test_the_cached_tab_is_kept_per_language(
    owner_client: Client, owner: User, registry: Registry
) -> None:
    make_credential(owner, registry, "ci-bot")
    for _ in range(2):  # the second round is served from the page cache
        english = owner_client.get(tab_url(registry), headers={"accept-language": "en"})
        chinese = owner_client.get(tab_url(registry), headers={"accept-language": "zh-hans"})
        assert ">Disable</button>" in english.content.decode()
        assert ">禁用</button>" in chinese.content.decode()
        assert "从未使用" in chinese.content.decode()  # Last Used: Never


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize(
    ("zone", "expected"),
    [("UTC", "2026-11-30 14:05 UTC"), ("Asia/Shanghai", "2026-11-30 22:05 CST")],
)
def test_one_date_format_with_its_time_zone(language: str, zone: str, expected: str) -> None:
    """The console's format (timestamps.shown: the tab, the admin's lists, the banner, e-mails)
    is the one Django's own pages draw from swrconsole/formats/, in each language and zone."""
    moment = datetime(2026, 11, 30, 14, 5, 9, tzinfo=UTC)
    with translation.override(language), timezone.override(zone):
        shown = Template("{% load console %}{{ moment|timestamp }}").render(
            Context({"moment": moment})
        )
        admin_style = Template("{{ moment }}").render(Context({"moment": moment}))
        ours = timestamps.shown(moment)
    assert shown == f'<time datetime="2026-11-30T14:05:09Z">{expected}</time>'
    assert admin_style == expected
    assert ours == expected


def test_region_names_follow_the_language(region) -> None:
    with translation.override("zh-hans"):
        assert str(region) == "华北-北京四"
    with translation.override("en"):
        assert str(region) == "CN North-Beijing4"
