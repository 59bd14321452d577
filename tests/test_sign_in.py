"""Failed sign-ins are limited per username and per address, with a clear message."""

from __future__ import annotations

from django.test import Client

from credentials.models import AuditEvent, User
from tests.helpers import PASSWORD


def test_repeated_sign_in_failures_are_refused_with_a_clear_message(owner: User, settings) -> None:
    settings.SIGN_IN_FAILURES_PER_USERNAME = "3/15m"
    client = Client()
    for _ in range(3):
        assert (
            client.post("/accounts/login/", {"username": "alice", "password": "nope"}).status_code
            == 200
        )
    refused = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert refused.status_code == 429
    assert "Too many failed sign-in attempts" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    admin = Client().post("/admin/login/?next=/admin/", {"username": "alice", "password": PASSWORD})
    assert admin.status_code == 200  # the admin's form, refused, not a redirect into the admin
    assert AuditEvent.objects.filter(action="console.sign_in_failed").count() >= 3


def test_sign_in_failures_from_one_address_are_limited_across_usernames(
    owner: User, settings
) -> None:
    settings.SIGN_IN_FAILURES_PER_IP = "3/15m"
    client = Client()
    for name in ("x", "y", "z"):
        client.post("/accounts/login/", {"username": name, "password": "nope"})
    assert (
        client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}).status_code
        == 429
    )
    other = Client(REMOTE_ADDR="10.1.2.3")
    assert (
        other.post("/accounts/login/", {"username": "alice", "password": PASSWORD}).status_code
        == 302
    )
