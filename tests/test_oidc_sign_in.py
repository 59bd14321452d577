"""Sign-in with an OpenID Connect provider, against a real one (npm's oidc-provider, on
loopback): users matched by issuer + subject and made federated, groups and roles from the
groups claim, renewal, sign-out there, and every bad input refused with a page in both
languages, audited with its reason, changing nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from credentials.identity.federation import MAX_GROUPS
from credentials.models import AuditEvent, FederatedIdentity, ProviderGroup, User
from credentials.rules import READ
from swrconsole.environment import OidcSettings
from tests.helpers import (
    PASSWORD,
    ask,
    basic,
    every_row_of_every_table,
    make_user,
    mint_temporary,
    new_credential,
    permit,
)
from tests.oidc_provider import OidcProvider, at_provider, sign_in, use_provider
from tests.servers import free_port


@pytest.fixture
def provider(oidc_provider: OidcProvider, settings, db: None) -> OidcProvider:
    use_provider(settings, oidc_provider)
    yield oidc_provider
    oidc_provider.stop_tampering()


def state_of_things() -> tuple:
    """What a refused sign-in must leave as it was."""
    return (
        sorted(User.objects.values_list("username", "is_active", "is_superuser", "is_staff")),
        sorted(Group.objects.values_list("name", flat=True)),
        FederatedIdentity.objects.count(),
        sorted(Group.objects.filter(user__isnull=False).values_list("name", "user__username")),
    )


def refusals() -> list[str]:
    return list(
        AuditEvent.objects.filter(action=AuditEvent.Action.OIDC_SIGN_IN_REFUSED).values_list(
            "detail__reason", flat=True
        )
    )


def test_the_sign_in_page_offers_the_provider_beside_the_password_form_in_both_languages(
    provider: OidcProvider,
) -> None:
    english = Client().get("/accounts/login/").content.decode()
    chinese = Client().get("/accounts/login/", headers={"accept-language": "zh-hans"})
    assert "Sign in with Example SSO" in english
    assert 'name="password"' in english
    assert "使用 Example SSO 登录" in chinese.content.decode()


def test_a_first_sign_in_creates_a_federated_user_from_the_claims(provider: OidcProvider) -> None:
    provider.put_user("gina", groups=["developers"], name="Gina Lollo", email="gina@example.com")
    client = Client()
    response = sign_in(client, "gina")
    assert (response.status_code, response["Location"]) == (302, "/")
    user = User.objects.get(username="gina")
    assert (user.is_federated, user.email, user.first_name) == (
        True,
        "gina@example.com",
        "Gina Lollo",
    )
    assert not user.has_usable_password()
    identity = user.federated_identity
    assert (identity.issuer, identity.subject) == (provider.issuer, "gina")
    assert identity.refresh_token
    assert "refresh" not in identity.refresh_token_ciphertext
    assert list(user.groups.values_list("name", flat=True)) == ["developers"]
    assert ProviderGroup.objects.filter(group__name="developers", issuer=provider.issuer).exists()
    event = AuditEvent.objects.get(action=AuditEvent.Action.SIGN_IN, actor=user)
    assert event.detail | {"path": ""} == {
        "path": "",
        "method": "oidc",
        "issuer": provider.issuer,
        "subject": "gina",
        "created": True,
    }
    assert client.get("/").status_code == 200


def test_the_next_sign_in_refreshes_the_user_and_makes_the_groups_equal_to_the_claim(
    provider: OidcProvider,
) -> None:
    provider.put_user("hank", groups=["team-a", "team-b"])
    sign_in(Client(), "hank")
    provider.put_user("hank", groups=["team-b", "team-c"], email="hank@new.example")
    sign_in(Client(), "hank")
    user = User.objects.get(username="hank")
    assert sorted(user.groups.values_list("name", flat=True)) == ["team-b", "team-c"]
    assert user.email == "hank@new.example"
    assert User.objects.filter(federated_identity__subject="hank").count() == 1
    change = AuditEvent.objects.filter(action=AuditEvent.Action.OIDC_GROUPS_CHANGED).first()
    assert (change.detail["added"], change.detail["removed"]) == (["team-c"], ["team-a"])


def test_a_local_account_with_the_same_name_and_e_mail_is_not_taken_over(
    provider: OidcProvider,
) -> None:
    local = make_user("ivy", email="ivy@example.com")
    provider.put_user("ivy", groups=[], email="ivy@example.com")
    client = Client()
    sign_in(client, "ivy")
    page = client.get("/").content.decode()
    federated = User.objects.get(federated_identity__subject="ivy")
    assert federated.username == "ivy-2"
    assert federated.pk != local.pk
    assert "The username ivy belongs to another account here, so yours is ivy-2." in page
    local.refresh_from_db()
    assert (local.is_federated, local.has_usable_password()) == (False, True)


def test_a_local_group_of_the_same_name_as_a_claimed_one_is_never_joined(
    provider: OidcProvider,
) -> None:
    Group.objects.get_or_create(name="Registry Administrators")
    provider.put_user("jack", groups=["Registry Administrators"])
    sign_in(Client(), "jack")
    user = User.objects.get(username="jack")
    assert not user.groups.exists()
    change = AuditEvent.objects.get(action=AuditEvent.Action.OIDC_GROUPS_CHANGED)
    assert change.detail["ignored_local_groups"] == ["Registry Administrators"]


def test_admin_and_auditor_roles_come_from_groups_and_go_with_them(provider: OidcProvider) -> None:
    provider.put_user("kate", groups=["swr-admins"])
    provider.put_user("liam", groups=["swr-auditors"])
    sign_in(Client(), "kate")
    sign_in(Client(), "liam")
    kate, liam = User.objects.get(username="kate"), User.objects.get(username="liam")
    assert (kate.is_superuser, kate.is_staff) == (True, True)
    assert (liam.is_superuser, liam.is_staff) == (False, True)
    assert liam.groups.filter(name="Auditors").exists()
    provider.put_user("kate", groups=[])
    provider.put_user("liam", groups=[])
    sign_in(Client(), "kate")
    sign_in(Client(), "liam")
    kate.refresh_from_db()
    liam.refresh_from_db()
    assert (kate.is_superuser, kate.is_staff, liam.is_staff) == (False, False, False)
    assert not liam.groups.filter(name="Auditors").exists()
    changes = AuditEvent.objects.filter(action=AuditEvent.Action.OIDC_ROLE_CHANGED)
    assert {
        (event.credential_username, event.detail["new"]["administrator"]) for event in changes
    } >= {
        ("kate", True),
        ("kate", False),
    }


def test_a_groups_organization_permission_applies_to_its_members(
    provider: OidcProvider, registry
) -> None:
    provider.put_user("mona", groups=["team-a-readers"])
    client = Client()
    sign_in(client, "mona")
    permit(registry, "team-a", READ, group=Group.objects.get(name="team-a-readers"))
    page = client.get(f"/registries/{registry.public_id}/my-permissions/").content.decode()
    assert "team-a" in page


def test_a_federated_user_is_refused_long_term_credentials_and_access_keys(
    provider: OidcProvider, registry
) -> None:
    provider.put_user("nick", groups=[])
    client = Client()
    sign_in(client, "nick")
    created = client.post(
        f"/registries/{registry.public_id}/access-credentials/long-term/create/", {"name": "ci"}
    )
    assert "Federated users cannot" in created.content.decode()
    key = client.post("/my-credentials/access-keys/create/")
    assert "ederated" in key.content.decode()
    assert not User.objects.get(username="nick").long_term_credentials.exists()


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ({"claims": {"aud": "another-client"}}, "audience"),
        ({"claims": {"iss": "https://impostor.example"}}, "issuer"),
        ({"claims": {"nonce": "another-nonce"}}, "nonce"),
        ({"claims": {"exp": 1_000_000_000, "iat": 999_999_000}}, "expiry"),
        ({"unknown_key": True}, "signature"),
        ({"remove": ("sub",)}, "subject"),
        ({"claims": {"groups": "developers"}}, "groups"),
    ],
    ids=["audience", "issuer", "nonce", "expired", "unknown-key", "no-sub", "groups-not-a-list"],
)
def test_a_bad_id_token_is_refused_with_its_reason_and_changes_nothing(
    provider: OidcProvider, tamper: dict, reason: str
) -> None:
    provider.put_user("olga", groups=["developers"])
    before = state_of_things()
    provider.tamper(**tamper)
    client = Client()
    response = sign_in(client, "olga")
    assert response.status_code == 403
    assert "Sign-in refused" in response.content.decode()
    assert refusals() == [reason]
    assert state_of_things() == before
    assert "_auth_user_id" not in client.session


def test_a_thousand_groups_are_refused(provider: OidcProvider) -> None:
    provider.put_user("pete", groups=[f"group-{n}" for n in range(1000)])
    before = state_of_things()
    response = sign_in(Client(), "pete")
    assert response.status_code == 403
    assert (
        f"more groups for you than the console accepts ({MAX_GROUPS})" in response.content.decode()
    )
    assert (refusals(), state_of_things()) == (["groups_too_many"], before)


def test_a_wrong_or_replayed_state_is_refused_in_both_languages(provider: OidcProvider) -> None:
    provider.put_user("quin", groups=[])
    client = Client()
    callback = at_provider(client.get("/oidc/login/"), "quin")
    forged = client.get(
        callback.replace("state=", "state=forged"), headers={"accept-language": "zh-hans"}
    )
    assert forged.status_code == 403
    assert "登录被拒绝" in forged.content.decode()
    assert client.get(callback).status_code == 302  # the real answer still signs in
    client.logout()
    replayed = client.get(callback)
    assert replayed.status_code == 403
    assert "expired or was already used" in replayed.content.decode()
    assert refusals() == ["state", "state"]
    assert User.objects.filter(username="quin").count() == 1


def test_an_unreachable_provider_is_a_clear_page_not_an_error(
    provider: OidcProvider, settings
) -> None:
    settings.OIDC = replace(settings.OIDC, issuer=f"http://127.0.0.1:{free_port()}")
    response = Client().get("/oidc/login/")
    assert response.status_code == 503
    assert "cannot be reached" in response.content.decode()
    assert refusals() == ["unreachable"]


def test_sign_out_also_signs_out_at_the_provider(provider: OidcProvider) -> None:
    provider.put_user("rita", groups=[])
    client = Client()
    sign_in(client, "rita")
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"].startswith(f"{provider.issuer}/session/end")
    assert "id_token_hint=" in response["Location"]
    assert (
        "post_logout_redirect_uri=http%3A%2F%2Ftestserver%2Faccounts%2Flogin%2F"
        in response["Location"]
    )
    assert client.get("/").status_code == 302


def later(seconds: int):
    return time_machine.travel(datetime.now(UTC) + timedelta(seconds=seconds), tick=True)


def test_renewal_keeps_an_accepted_user_and_follows_their_groups(provider: OidcProvider) -> None:
    provider.put_user("sara", groups=["team-a"])
    client = Client()
    sign_in(client, "sara")
    provider.put_user("sara", groups=["team-b"])
    with later(60):
        assert client.get("/").status_code == 200
        assert list(User.objects.get(username="sara").groups.values_list("name", flat=True)) == [
            "team-a"
        ]
    with later(901):
        assert client.get("/").status_code == 200
    user = User.objects.get(username="sara")
    assert list(user.groups.values_list("name", flat=True)) == ["team-b"]


def test_a_user_removed_at_the_provider_loses_the_console_and_the_registry(
    provider: OidcProvider, registry, token_keys
) -> None:
    provider.put_user("tom", groups=[])
    client = Client()
    sign_in(client, "tom")
    user = User.objects.get(username="tom")
    temporary, password = mint_temporary(user, registry)
    service = registry.address
    assert ask(Client(), basic(temporary.username, password), service).status_code == 200
    provider.remove_user("tom")
    with later(901):
        response = client.get("/")
        assert (response.status_code, response["Location"]) == (302, "/accounts/login/")
    user.refresh_from_db()
    assert not user.is_active
    assert client.get("/").status_code == 302
    assert ask(Client(), basic(temporary.username, password), service).status_code == 401
    event = AuditEvent.objects.get(action=AuditEvent.Action.OIDC_USER_DEACTIVATED)
    assert (event.credential_username, event.detail["reason"]) == ("tom", "provider")


def test_local_login_false_keeps_passwords_for_the_break_glass_superuser_only(
    provider: OidcProvider, settings
) -> None:
    settings.LOCAL_LOGIN = False
    make_user("uma")
    make_user("root", is_superuser=True, is_staff=True)
    page = Client().get("/accounts/login/").content.decode()
    assert "Sign in with Example SSO" in page
    assert 'name="password"' not in page
    assert 'name="password"' in Client().get("/accounts/login/local/").content.decode()
    refused = Client().post("/accounts/login/", {"username": "uma", "password": PASSWORD})
    assert refused.status_code == 200  # the form again, not signed in
    root = Client()
    assert (
        root.post("/accounts/login/", {"username": "root", "password": PASSWORD}).status_code == 302
    )
    assert root.get("/").status_code == 200


def test_a_long_term_credential_of_a_user_made_federated_by_the_provider_is_refused(
    provider: OidcProvider, registry, token_keys
) -> None:
    local = make_user("vera")
    credential, password = new_credential(local, registry, "ci")
    FederatedIdentity.objects.create(user=local, issuer=provider.issuer, subject="vera")
    provider.put_user("vera", groups=[])
    sign_in(Client(), "vera")
    assert User.objects.get(pk=local.pk).is_federated
    service = registry.address
    assert ask(Client(), basic(credential.username, password), service).status_code == 401


def test_a_user_removed_at_the_provider_loses_the_registry_without_using_the_console(
    provider: OidcProvider, registry, token_keys
) -> None:
    provider.put_user("ursula", groups=[])
    sign_in(Client(), "ursula")
    user = User.objects.get(username="ursula")
    temporary, password = mint_temporary(user, registry)
    provider.remove_user("ursula")
    with later(600):  # within OIDC_RENEW_SECONDS nobody asks the provider
        assert (
            ask(Client(), basic(temporary.username, password), registry.address).status_code == 200
        )
    with later(901):
        assert (
            ask(Client(), basic(temporary.username, password), registry.address).status_code == 401
        )
    user.refresh_from_db()
    assert not user.is_active
    event = AuditEvent.objects.get(action=AuditEvent.Action.OIDC_USER_DEACTIVATED)
    assert (event.actor_username, event.detail["reason"]) == ("ursula", "provider")


def test_with_a_provider_a_long_term_credentials_token_looks_up_no_federated_identity(
    provider: OidcProvider, registry, token_keys
) -> None:
    credential, password = new_credential(make_user("lena"), registry, "ci")
    table = FederatedIdentity._meta.db_table
    with CaptureQueriesContext(connection) as queries:
        response = ask(Client(), basic(credential.username, password), registry.address)
    assert response.status_code == 200
    assert not [query["sql"] for query in queries if table in query["sql"]]


def test_without_a_provider_configured_the_token_service_asks_none(
    provider: OidcProvider, registry, token_keys, settings
) -> None:
    provider.put_user("victor", groups=[])
    sign_in(Client(), "victor")
    temporary, password = mint_temporary(User.objects.get(username="victor"), registry)
    provider.remove_user("victor")
    with later(901):
        settings.OIDC = OidcSettings()
        assert (
            ask(Client(), basic(temporary.username, password), registry.address).status_code == 200
        )
    assert User.objects.get(username="victor").is_active


@pytest.mark.parametrize("failure", ["unreachable", "unknown-key"])
def test_a_renewal_that_cannot_be_checked_ends_the_session_but_keeps_the_user(
    provider: OidcProvider, settings, failure: str
) -> None:
    provider.put_user("wade", groups=[])
    client = Client()
    sign_in(client, "wade")
    if failure == "unreachable":
        settings.OIDC = replace(settings.OIDC, issuer=f"http://127.0.0.1:{free_port()}")
    else:
        provider.tamper(unknown_key=True)
    with later(901):
        response = client.get("/")
        assert (response.status_code, response["Location"]) == (302, "/accounts/login/")
        page = client.get("/accounts/login/").content.decode()
    assert "Your sign-in could not be confirmed with your identity provider." in page
    assert User.objects.get(username="wade").is_active
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.OIDC_USER_DEACTIVATED).exists()


def test_no_code_or_token_is_kept_in_clear_or_written_to_the_trail_or_the_log(
    provider: OidcProvider, settings
) -> None:
    provider.put_user("xavi", groups=[])
    client = Client()
    callback = at_provider(client.get("/oidc/login/"), "xavi")
    code = parse_qs(urlsplit(callback).query)["code"][0]
    client.get(callback)
    client.get(callback)  # replayed: refused, audited
    identity = FederatedIdentity.objects.get(subject="xavi")
    rows = every_row_of_every_table()
    assert identity.refresh_token not in rows
    assert identity.id_token  # kept for signing out at the provider: encrypted
    assert identity.id_token not in rows
    assert code not in rows
    trail = repr(list(AuditEvent.objects.values_list("detail", flat=True)))
    assert identity.id_token not in trail
    assert "eyJ" not in trail  # no JWT of any kind
    log = Path(settings.LOG_FILE).read_text() if getattr(settings, "LOG_FILE", "") else ""
    assert code not in log
    assert identity.refresh_token not in log
