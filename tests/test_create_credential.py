from __future__ import annotations

import csv
import io
import json
import logging
import re

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from credentials.models import (
    Actor,
    AuditEvent,
    ConsoleError,
    LongTermCredential,
    Registry,
    User,
    digest_password,
)
from credentials.rules import NAME_MAX_LENGTH
from tests.helpers import (
    LONG_TERM_CSV_HEADER_LINE,
    client_for,
    create,
    create_url,
    every_row_of_every_table,
    new_credential,
    race,
)


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8"))))


def test_it_answers_ok_with_a_csv_named_after_the_credential(
    owner_client: Client, registry: Registry
) -> None:
    response = create(owner_client, registry, "ci-bot.1")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="ci-bot.1.csv"'
    assert response["Cache-Control"] == "no-store"


def test_the_csv_has_the_header_and_one_row_with_a_working_login_command(
    owner_client: Client, registry: Registry, owner: User
) -> None:
    response = create(owner_client, registry, "ci-bot.1")
    assert response.content.decode("utf-8").splitlines()[0] == LONG_TERM_CSV_HEADER_LINE
    _, row = read_csv(response)
    name, username, password, address, command, created_at, expires_at = row
    credential = LongTermCredential.objects.get()
    assert name == "ci-bot.1"
    assert username == credential.username
    assert re.fullmatch(r"cn-north-4@[A-Z0-9]{20}", username)
    assert re.fullmatch(r"[0-9a-f]{64}", password)
    assert address == "swr.cn-north-4.myhuaweicloud.com"
    assert command == f"docker login -u {username} -p {password} {address}"
    assert created_at == credential.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert expires_at == ""  # Never, the default without a policy
    assert credential.expires_at is None
    assert credential.owner == owner
    assert credential.is_enabled


def test_it_stores_only_a_keyed_digest_of_the_password(
    owner_client: Client, registry: Registry
) -> None:
    _, row = read_csv(create(owner_client, registry, "ci-bot"))
    credential = LongTermCredential.objects.get()
    assert credential.password_digest == digest_password(row[2])
    assert credential.password_digest != row[2]
    with override_settings(CREDENTIAL_HASH_KEY="another key"):
        assert digest_password(row[2]) != credential.password_digest


def test_the_password_appears_nowhere_in_the_database_or_the_logs(
    owner_client: Client, registry: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _, row = read_csv(create(owner_client, registry, "ci-bot"))
    password = row[2]
    owner_client.get(reverse("long_term_tab", args=[registry.public_id]))

    dump = every_row_of_every_table()
    assert "ci-bot" in dump, "the dump should contain the credential row"
    assert password not in dump
    session = owner_client.session.load()  # the signed cookie, decoded
    assert session["_auth_user_id"]
    assert password not in repr(session)
    assert caplog.records, "log output should have been captured"
    assert password not in caplog.text


def test_no_page_shows_the_password_again(owner_client: Client, registry: Registry) -> None:
    _, row = read_csv(create(owner_client, registry, "ci-bot"))
    page = owner_client.get(reverse("long_term_tab", args=[registry.public_id]))
    assert row[1].encode() in page.content
    assert row[2].encode() not in page.content


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("", "Enter a name"),
        ("a" * 65, "at most 64 characters"),
        ("CI-Bot", "The name contains “C”, “I”, “B”."),
        ("-ci", "start and end with a lowercase letter or digit"),
        ("ci-", "start and end with a lowercase letter or digit"),
        (".ci", "start and end with a lowercase letter or digit"),
        ("ci..bot", "cannot follow one another"),
        ("ci-_bot", "cannot follow one another"),
        ("ci bot", "The name contains a space."),
        (" ci", "The name contains a space."),
        ("ci\tbot", "The name contains U+0009."),
        ("café", "The name contains “é”."),
        ("<script>x</script>", "lowercase letters"),
        ("ci/bot", "The name contains “/”."),
    ],
)
def test_it_refuses_an_invalid_name_saying_which_rule_failed(
    owner_client: Client, registry: Registry, name: str, rule: str
) -> None:
    response = create(owner_client, registry, name)
    assert response.status_code == 422
    page = response.content.decode()
    assert rule in page
    assert 'role="dialog"' in page or "<dialog" in page
    assert "<script>x" not in page
    assert LongTermCredential.objects.count() == 0
    assert not AuditEvent.objects.filter(action__startswith="long_term.").exists()


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "The name contains “B”, “N”, a space, “!”."),
        ("zh-hans", "名称包含 “B”、“N”、空格、“!”。"),
    ],
)
def test_the_name_rule_names_every_character_it_refuses_once_in_order(
    owner_client: Client, registry: Registry, language: str, message: str
) -> None:
    owner_client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = create(owner_client, registry, "Bad Name! Now", HX_Request="true")
    assert response.status_code == 422
    assert message in response.content.decode()
    assert LongTermCredential.objects.count() == 0


@pytest.mark.parametrize("name", ["a", "7", "a" * 64, "ci-bot.1", "a_b-c.d", "build2026"])
def test_it_accepts_names_that_follow_the_rule(
    owner_client: Client, registry: Registry, name: str
) -> None:
    assert create(owner_client, registry, name).status_code == 200
    assert LongTermCredential.objects.get().name == name


def test_an_htmx_create_with_errors_answers_the_form_fragment(
    owner_client: Client, registry: Registry
) -> None:
    response = create(owner_client, registry, "Bad Name", HX_Request="true")
    assert response.status_code == 422
    page = response.content.decode()
    assert page.lstrip().startswith('<form id="create-form"')
    assert "<html" not in page


def test_an_htmx_create_asks_the_page_to_refresh_the_table(
    owner_client: Client, registry: Registry
) -> None:
    response = create(owner_client, registry, "ci-bot", HX_Request="true")
    assert response.status_code == 200
    events = json.loads(response["HX-Trigger"])
    assert events["credentialsChanged"] == {}
    assert "is created" in events["consoleMessage"]["text"]  # said in the live region


def test_it_refuses_a_duplicate_name(owner_client: Client, registry: Registry) -> None:
    assert create(owner_client, registry, "ci-bot").status_code == 200
    response = create(owner_client, registry, "ci-bot")
    assert response.status_code == 422
    assert "You already have a long-term credential named “ci-bot”" in response.content.decode()
    assert LongTermCredential.objects.count() == 1


def test_the_same_name_is_fine_in_another_registry_or_for_another_user(
    owner_client: Client, registry: Registry, other_registry: Registry, other_user: User
) -> None:
    assert create(owner_client, registry, "ci-bot").status_code == 200
    assert create(owner_client, other_registry, "ci-bot").status_code == 200
    assert create(client_for(other_user), registry, "ci-bot").status_code == 200
    assert LongTermCredential.objects.filter(name="ci-bot").count() == 3


@pytest.mark.django_db(transaction=True)
def test_two_racing_creates_of_one_name_make_exactly_one_row(
    owner: User, registry: Registry
) -> None:
    outcomes = race(lambda: new_credential(owner, registry, "racer"), threads=2)

    refused = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    assert len(outcomes) - len(refused) == 1  # created once
    assert len(refused) == 1
    assert isinstance(refused[0], ConsoleError), refused[0]
    assert str(refused[0]) == (
        "You already have a long-term credential named “racer” for this registry."
    )
    assert LongTermCredential.objects.filter(name="racer").count() == 1


@override_settings(LONG_TERM_CREDENTIALS_PER_REGISTRY=2)
def test_it_enforces_the_per_registry_limit(
    owner_client: Client, registry: Registry, other_registry: Registry
) -> None:
    assert create(owner_client, registry, "one").status_code == 200
    assert create(owner_client, registry, "two").status_code == 200
    response = create(owner_client, registry, "three")
    assert response.status_code == 422
    assert "You already have 2 long-term credentials for this registry" in response.content.decode()
    assert create(owner_client, other_registry, "three").status_code == 200
    assert LongTermCredential.objects.filter(registry=registry).count() == 2


def test_a_federated_user_is_refused_with_the_reason(
    federated_user: User, registry: Registry
) -> None:
    client = client_for(federated_user)
    page = client.get(reverse("long_term_tab", args=[registry.public_id])).content.decode()
    assert "Federated users cannot create or use long-term credentials" in page
    assert "Create Long-Term Credential" not in page

    response = create(client, registry, "ci-bot")
    assert response.status_code == 403
    assert "Federated users cannot create or use long-term credentials" in response.content.decode()
    assert client.get(create_url(registry)).status_code == 403
    assert LongTermCredential.objects.count() == 0


def test_a_create_without_a_csrf_token_is_refused(owner: User, registry: Registry) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post(create_url(registry), {"name": "ci-bot"})
    assert response.status_code == 403
    assert LongTermCredential.objects.count() == 0


def test_the_create_dialog_works_without_javascript(
    owner_client: Client, registry: Registry
) -> None:
    page = owner_client.get(create_url(registry)).content.decode()
    assert re.search(r"<dialog[^>]*\bopen\b", page)
    assert '<label for="id_name">Credential Name</label>' in page
    assert ">OK</button>" in page
    assert ">Cancel</button>" in page


def test_every_create_writes_an_audit_event(
    owner_client: Client, registry: Registry, owner: User
) -> None:
    create(owner_client, registry, "ci-bot", User_Agent="pipeline/1.0")
    credential = LongTermCredential.objects.get()
    event = AuditEvent.objects.get(action="long_term.created")
    assert event.action == AuditEvent.Action.LONG_TERM_CREATED
    assert event.actor == owner
    assert event.actor_username == "alice"
    assert event.ip_address == "127.0.0.1"
    assert event.user_agent == "pipeline/1.0"
    assert event.registry == registry
    assert event.credential_public_id == credential.public_id
    assert event.credential_name == "ci-bot"
    assert event.credential_username == credential.username


def test_the_domain_refuses_a_bad_name_whoever_calls(owner: User, registry: Registry) -> None:
    """The rule holds below the entry points too: create_for checks it, not only the forms."""
    with pytest.raises(ConsoleError, match=re.escape("The name contains “B”, “N”, a space, “!”.")):
        LongTermCredential.objects.create_for(
            owner=owner, registry=registry, name="Bad Name!", by=Actor(user=owner)
        )
    assert not LongTermCredential.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("language", "help_text"), [("en", "1–64 characters"), ("zh-hans", "1–64 个字符")]
)
def test_the_dialog_takes_the_name_limit_from_the_rule(
    owner_client: Client, registry: Registry, language: str, help_text: str
) -> None:
    """The 64 is written once (credentials.rules): the field's maxlength and its help say it."""
    owner_client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page = owner_client.get(reverse("create_long_term", args=[registry.public_id]))
    html = page.content.decode()
    assert f'maxlength="{NAME_MAX_LENGTH}"' in html
    assert help_text in html
    assert NAME_MAX_LENGTH == 64
