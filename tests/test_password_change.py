"""The change-password page (Django's): for every user with a password of their own here,
linked from the top bar, in both languages; the session that changes it stays signed in."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from credentials.models import AuditEvent, User
from tests.helpers import PASSWORD, client_for, make_user

pytestmark = pytest.mark.django_db

PAGE = "/accounts/password_change/"
DONE = "/accounts/password_change/done/"
NEW = "a brand new passphrase 2026"
LINK = f'<a href="{PAGE}">Change password</a>'


def in_chinese(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    return client


def change(client: Client, old: str, new: str = NEW, again: str | None = None):
    body = {"old_password": old, "new_password1": new, "new_password2": again or new}
    return client.post(PAGE, body)


def test_the_top_bar_links_the_page_for_a_user_with_a_local_password(owner_client: Client) -> None:
    assert LINK in owner_client.get("/").content.decode()
    page = owner_client.get(PAGE)
    assert page.status_code == 200
    html = page.content.decode()
    assert "<h1>Change password</h1>" in html
    assert 'class="topbar"' in html  # in the console's frame
    for field in ("old_password", "new_password1", "new_password2"):
        assert f'name="{field}"' in html


def test_the_page_is_in_chinese_too(owner: User) -> None:
    html = in_chinese(client_for(owner)).get(PAGE).content.decode()
    assert "<h1>修改密码</h1>" in html
    assert "旧密码" in html


@pytest.mark.parametrize("kind", ["single sign-on", "federated"])
def test_a_user_without_a_local_password_gets_no_link_and_no_form(kind: str) -> None:
    if kind == "federated":
        user = make_user("fiona", is_federated=True)
    else:
        user = make_user("sso-sam")
        user.set_unusable_password()
        user.save()
    client = client_for(user)
    assert PAGE not in client.get("/").content.decode()
    response = client.get(PAGE)
    assert response.status_code == 403
    assert "single sign-on" in response.content.decode()
    assert 'name="old_password"' not in response.content.decode()


def test_a_visitor_is_sent_to_sign_in(client: Client) -> None:
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "Your old password was entered incorrectly. Please enter it again."),
        ("zh-hans", "你的旧密码不正确。请重新输入。"),
    ],
)
def test_a_wrong_old_password_is_refused_clearly_and_changes_nothing(
    owner: User, language: str, message: str
) -> None:
    client = client_for(owner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = change(client, "not my password")
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert 'aria-invalid="true"' in html
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)
    assert not owner.check_password(NEW)
    assert not AuditEvent.objects.filter(action="console.password_changed").exists()


def test_two_new_passwords_that_differ_change_nothing(owner_client: Client, owner: User) -> None:
    response = change(owner_client, PASSWORD, NEW, "something else entirely 2026")
    assert "The two password fields didn’t match." in response.content.decode()
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


@pytest.mark.parametrize(
    ("language", "said"), [("en", "Your password is changed."), ("zh-hans", "您的密码已修改。")]
)
def test_changing_it_says_so_keeps_this_session_and_is_audited(
    owner: User, language: str, said: str
) -> None:
    client = client_for(owner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    elsewhere = client_for(owner)  # another browser, signed in before the change
    response = change(client, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == DONE
    done = client.get(DONE)
    assert done.status_code == 200
    assert said in done.content.decode()
    owner.refresh_from_db()
    assert owner.check_password(NEW)
    assert client.get("/").status_code == 200  # still signed in here
    assert elsewhere.get("/").status_code == 302  # signed out there
    event = AuditEvent.objects.get(action="console.password_changed")
    assert event.actor == owner
    assert event.channel == "console"
    assert NEW not in str(event.detail)
    assert Client().login(username=owner.username, password=NEW)


def test_wrong_old_passwords_count_as_failed_sign_ins_and_are_limited(owner: User) -> None:
    """A session cannot guess its account's password here without the sign-in's limits."""
    client = client_for(owner)
    limit = int(settings.SIGN_IN_FAILURES_PER_USERNAME.split("/")[0])
    answers = [change(client, f"guess-{attempt}").status_code for attempt in range(limit + 1)]
    assert answers[:limit] == [200] * limit  # refused with the form's message
    assert answers[limit] == 429
    failures = AuditEvent.objects.filter(
        action=AuditEvent.Action.SIGN_IN_FAILED, actor_username="alice"
    )
    assert failures.count() >= 1
    # Once limited, even the right password is refused, and nothing changes.
    response = change(client, PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)
