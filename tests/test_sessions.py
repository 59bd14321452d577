"""Sessions are signed cookies: nothing stored per session, yet they end when they must —
on sign-out (everywhere), on a password change, after their age, and from the admin."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from credentials.models import AuditEvent, User
from tests.helpers import PASSWORD, client_for

pytestmark = pytest.mark.django_db


def signed_in(client: Client) -> bool:
    response = client.get(reverse("home"))
    return response.status_code == 200


def copy_of(client: Client) -> Client:
    """Another browser holding the same session cookie (a stolen or kept copy)."""
    copy = Client()
    copy.cookies[settings.SESSION_COOKIE_NAME] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return copy


def test_a_session_is_a_signed_cookie_and_nothing_is_stored(owner: User) -> None:
    client = Client()
    assert (
        client.post(reverse("login"), {"username": "alice", "password": PASSWORD}).status_code
        == 302
    )
    assert signed_in(client)
    assert "django_session" not in connection.introspection.table_names()
    assert client.session["_auth_user_id"] == str(owner.pk)


def test_a_tampered_cookie_is_not_a_session(owner: User) -> None:
    client = client_for(owner)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.cookies[settings.SESSION_COOKIE_NAME] = (
        cookie[:-2] + ("A" if cookie[-2] != "A" else "B") + cookie[-1]
    )
    assert not signed_in(client)


def test_signing_out_ends_every_session_of_the_account_including_kept_copies(owner: User) -> None:
    laptop, phone = client_for(owner), client_for(owner)
    kept = copy_of(laptop)
    assert [signed_in(client) for client in (laptop, phone, kept)] == [True, True, True]

    assert laptop.post(reverse("logout")).status_code == 302

    assert not signed_in(laptop)
    assert not signed_in(kept), "a cookie copied before sign-out must not work after it"
    assert not signed_in(phone)
    again = Client()
    again.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert signed_in(again), "signing in again works"


def test_a_password_change_ends_other_sessions(owner: User) -> None:
    other = client_for(owner)
    owner.set_password("a brand new password for alice")
    owner.save()
    assert not signed_in(other)


def test_a_session_ends_after_its_age(owner: User, monkeypatch: pytest.MonkeyPatch) -> None:
    client = client_for(owner)
    assert signed_in(client)
    later = time.time() + settings.SESSION_COOKIE_AGE + 1
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    assert not signed_in(client)


def test_a_deactivated_user_is_signed_out(owner: User) -> None:
    client = client_for(owner)
    User.objects.filter(pk=owner.pk).update(is_active=False)
    assert not signed_in(client)


def test_the_admin_signs_users_out_everywhere_and_it_is_audited(
    owner: User, other_user: User, staff_user: User
) -> None:
    alice, bob = client_for(owner), client_for(other_user)
    admin = client_for(staff_user)
    response = admin.post(
        reverse("admin:credentials_user_changelist"),
        {"action": "end_sessions", "_selected_action": [owner.pk]},
    )
    assert response.status_code == 302
    assert not signed_in(alice)
    assert signed_in(bob)
    event = AuditEvent.objects.get(action=AuditEvent.Action.SESSIONS_ENDED)
    assert (event.actor, event.detail) == (staff_user, {"user": "alice"})
