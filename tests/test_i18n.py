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
from tests.helpers import make_credential, tab_url

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


def test_the_sign_in_page_has_the_switch_too(client: Client) -> None:
    page = client.get(reverse("login"), headers={"accept-language": "zh-hans"}).content.decode()
    assert 'action="/i18n/setlang/"' in page
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
