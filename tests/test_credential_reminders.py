"""`manage.py send_credential_reminders`: reminders of expiry e-mailed once each, over a real
SMTP server (aiosmtpd), however often and however concurrently it runs; unused credentials
disabled when the policy asks, audited and mailed. Time is moved, never waited for."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from credentials.lifecycle import schedule as lifecycle
from credentials.models import (
    Actor,
    AuditEvent,
    CredentialReminder,
    LongTermCredential,
    Registry,
    User,
)
from tests.helpers import NOW, PASSWORD, client_for, make_user, race
from tests.servers import free_port
from tests.smtp import Mailbox, body

pytestmark = pytest.mark.django_db

CONSOLE = "https://console.example.test"


@pytest.fixture
def frozen(time_machine, settings) -> datetime:
    time_machine.move_to(NOW, tick=False)
    settings.CONSOLE_URL = CONSOLE
    settings.DEFAULT_FROM_EMAIL = "SWR Console <swr@example.test>"
    return NOW


@pytest.fixture
def alice(db: None) -> User:
    return make_user("alice", email="alice@example.test", first_name="Alice")


def make(
    owner: User, registry: Registry, name: str, expires_at: datetime | None
) -> LongTermCredential:
    credential, _ = LongTermCredential.objects.create_for(
        owner=owner, registry=registry, name=name, by=Actor(user=owner), expires_at=expires_at
    )
    return credential


def send(times: int = 1) -> str:
    """Run the command `times` times, as cron would; its last output."""
    output = ""
    for _ in range(times):
        from io import StringIO

        out = StringIO()
        call_command("send_credential_reminders", stdout=out)
        output = out.getvalue()
    return output


def test_each_reminder_arrives_once_across_14_7_1_and_0_days(
    mailbox: Mailbox, alice: User, registry: Registry, frozen: datetime, time_machine
) -> None:
    expires_at = NOW + timedelta(days=30)
    credential = make(alice, registry, "ci-bot", expires_at)
    send(3)
    assert mailbox.messages == []
    steps = [
        (expires_at - timedelta(days=14), "expires in 14 days"),
        (expires_at - timedelta(days=13), None),
        (expires_at - timedelta(days=7), "expires in 7 days"),
        (expires_at - timedelta(days=3), None),
        (expires_at - timedelta(days=1), "expires in 1 day"),
        (expires_at - timedelta(seconds=1), None),
        (expires_at, "has expired"),
        (expires_at + timedelta(days=2), None),
    ]
    expected: list[str] = []
    for moment, subject in steps:
        time_machine.move_to(moment, tick=False)
        send(3)
        if subject:
            expected.append(f"Your long-term credential “ci-bot” for {registry.address} {subject}")
        assert mailbox.subjects() == expected, moment
    assert CredentialReminder.objects.filter(credential=credential).count() == 4

    for message in mailbox.messages:
        assert message["To"] == "alice@example.test"
        assert message["From"] == "SWR Console <swr@example.test>"
        text = body(message)
        assert text.startswith("Hello Alice,")
        assert "ci-bot" in text
        assert credential.username in text
        assert f"{registry.name} ({registry.address})" in text
        assert "2026-12-30 09:30 UTC" in text
        assert f"{CONSOLE}{reverse('long_term_tab', args=[registry.public_id])}" in text
    assert "expired at 2026-12-30 09:30 UTC" in body(mailbox.messages[-1])


def test_each_owner_is_written_to_in_the_language_they_use_the_console_in(
    mailbox: Mailbox, alice: User, registry: Registry, frozen: datetime, time_machine
) -> None:
    li = make_user("li", email="li@example.test", first_name="Li")
    li_client = Client(headers={"accept-language": "zh-hans"})  # signs in to a Chinese page
    li_client.post(reverse("login"), {"username": "li", "password": PASSWORD})
    alice_client = client_for(alice)
    alice_client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    alice_client.post(reverse("set_language"), {"language": "en", "next": "/"})  # and back
    make(li, registry, "li-bot", expires_at=NOW + timedelta(days=20))
    make(alice, registry, "ci-bot", expires_at=NOW + timedelta(days=20))
    time_machine.move_to(NOW + timedelta(days=6), tick=False)  # 14 days left
    send()
    by_owner = {message["To"]: message for message in mailbox.messages}
    chinese = by_owner["li@example.test"]
    assert str(chinese["Subject"]).strip() == (
        f"您在 {registry.address} 的长期访问凭证“li-bot”将在 14 天后过期"
    )
    assert body(chinese).startswith("Li，您好：")
    english = by_owner["alice@example.test"]
    assert str(english["Subject"]).strip().startswith("Your long-term credential “ci-bot”")
    assert body(english).startswith("Hello Alice,")


def test_a_window_entered_at_creation_or_missed_sends_nothing_late(
    mailbox: Mailbox, alice: User, registry: Registry, frozen: datetime, time_machine
) -> None:
    # Created with 10 days to go: the 14-day reminder does not apply.
    expires_at = NOW + timedelta(days=10)
    make(alice, registry, "short", expires_at)
    send()
    assert mailbox.messages == []
    # The sender was down through the 7-day window: no late "7 days" with 12 hours left.
    time_machine.move_to(expires_at - timedelta(hours=12), tick=False)
    send(2)
    assert mailbox.subjects() == [
        f"Your long-term credential “short” for {registry.address} expires in 1 day"
    ]


def test_no_reminder_for_never_disabled_inactive_or_mailless_owners(
    mailbox: Mailbox, alice: User, registry: Registry, frozen: datetime, time_machine
) -> None:
    expires_at = NOW + timedelta(days=30)
    make(alice, registry, "forever", None)
    make(alice, registry, "off", expires_at).disable(by=Actor(user=alice))
    make(make_user("nomail"), registry, "nomail", expires_at)
    gone = make_user("gone", email="gone@example.test")
    make(gone, registry, "gone", expires_at)
    User.objects.filter(pk=gone.pk).update(is_active=False)
    make(alice, registry, "due", expires_at)
    time_machine.move_to(expires_at - timedelta(days=7), tick=False)
    assert send().startswith("1 reminder(s) sent")
    assert len(mailbox.messages) == 1
    assert "“due”" in mailbox.subjects()[0]


def test_a_refused_message_is_not_recorded_and_is_sent_by_a_later_run(
    mailbox: Mailbox, alice: User, registry: Registry, frozen: datetime, time_machine
) -> None:
    bob = make_user("bob", email="bob@example.test")
    expires_at = NOW + timedelta(days=30)
    make(alice, registry, "alices", expires_at)
    make(bob, registry, "bobs", expires_at)
    time_machine.move_to(expires_at - timedelta(days=7), tick=False)
    mailbox.refused.add("bob@example.test")
    out = StringIO()
    with pytest.raises(CommandError, match="1 reminder\\(s\\) not sent"):
        call_command("send_credential_reminders", stdout=out)
    assert "1 reminder(s) sent, 1 not sent" in out.getvalue()
    assert [m["To"] for m in mailbox.messages] == ["alice@example.test"]
    assert not CredentialReminder.objects.filter(credential__owner=bob).exists()
    mailbox.refused.clear()
    send(2)
    assert [m["To"] for m in mailbox.messages] == ["alice@example.test", "bob@example.test"]


def test_no_mail_server_fails_the_run_and_records_nothing(
    alice: User, registry: Registry, frozen: datetime, time_machine, settings, mailbox: Mailbox
) -> None:
    expires_at = NOW + timedelta(days=30)
    make(alice, registry, "ci-bot", expires_at)
    time_machine.move_to(expires_at - timedelta(days=7), tick=False)
    settings.EMAIL_PORT = free_port()  # nothing listens there
    with pytest.raises(CommandError, match="Cannot send e-mail"):
        send()
    assert not CredentialReminder.objects.exists()
    settings.EMAIL_PORT = mailbox.port
    send()
    assert len(mailbox.messages) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_senders_send_each_reminder_once(
    mailbox: Mailbox, alice: User, registry: Registry, frozen: datetime, time_machine
) -> None:
    expires_at = NOW + timedelta(days=30)
    for index in range(20):
        make(alice, registry, f"bot-{index}", expires_at)
    time_machine.move_to(expires_at - timedelta(days=7), tick=False)
    outcomes = race(lambda: lifecycle.run(batch_size=3), threads=4)
    assert not [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    assert sorted(mailbox.subjects()) == sorted(
        f"Your long-term credential “bot-{index}” for {registry.address} expires in 7 days"
        for index in range(20)
    )
    assert CredentialReminder.objects.count() == 20


# --- Stale credentials -----------------------------------------------------------------


def test_the_stale_policy_disables_exactly_the_unused_ones_audited_and_mailed(
    mailbox: Mailbox, alice: User, registry: Registry, frozen: datetime, time_machine, settings
) -> None:
    def aged(name: str, created_days_ago: int, used_days_ago: int | None) -> LongTermCredential:
        time_machine.move_to(NOW - timedelta(days=created_days_ago), tick=False)
        credential = make(alice, registry, name, None)
        if used_days_ago is not None:
            LongTermCredential.objects.filter(pk=credential.pk).update(
                last_used_at=NOW - timedelta(days=used_days_ago)
            )
        return credential

    stale_used = aged("used-100-days-ago", 200, 100)
    stale_never = aged("never-used-old", 100, None)
    aged("used-yesterday", 200, 1)
    aged("never-used-new", 10, None)
    aged("used-exactly-90-days-ago", 200, 90)  # not *more* than 90 days: kept
    revived = aged("re-enabled-lately", 200, 150)
    revived.disable(by=Actor(user=alice))
    time_machine.move_to(NOW - timedelta(days=5), tick=False)
    revived.refresh_from_db()
    revived.enable(by=Actor(user=alice))
    already = aged("already-disabled", 200, None)
    already.disable(by=Actor(user=alice))
    time_machine.move_to(NOW - timedelta(days=200), tick=False)
    expired = make(alice, registry, "expired", NOW - timedelta(days=10))
    time_machine.move_to(NOW, tick=False)

    settings.DISABLE_UNUSED_AFTER_DAYS = None
    assert "0 unused credential(s) disabled" in send()
    settings.DISABLE_UNUSED_AFTER_DAYS = 90
    version = User.objects.get(pk=alice.pk).credentials_version
    assert "2 unused credential(s) disabled" in send()
    assert "0 unused credential(s) disabled" in send()  # the next run finds nothing more

    disabled = set(
        LongTermCredential.objects.filter(is_enabled=False).values_list("name", flat=True)
    )
    assert disabled == {stale_used.name, stale_never.name, already.name}
    assert LongTermCredential.objects.get(pk=expired.pk).is_enabled  # expired already: refused
    events = AuditEvent.objects.filter(
        action=AuditEvent.Action.LONG_TERM_DISABLED, actor_username="system"
    )
    assert sorted(events.values_list("credential_name", flat=True)) == sorted(
        [stale_used.name, stale_never.name]
    )
    for event in events:
        assert event.actor is None
        assert event.detail == {
            "reason": "not used for 90 days (DISABLE_UNUSED_AFTER_DAYS)",
            "policy": "DISABLE_UNUSED_AFTER_DAYS",
        }
    assert User.objects.get(pk=alice.pk).credentials_version == version + 1
    assert sorted(mailbox.subjects()) == sorted(
        f"Your long-term credential “{name}” for {registry.address} was disabled: unused for "
        "90 days"
        for name in (stale_used.name, stale_never.name)
    )
    never_mail = next(m for m in mailbox.messages if stale_never.name in m["Subject"])
    assert "Last used: never" in body(never_mail)


def test_stale_disabling_waits_for_a_mail_server(
    alice: User, registry: Registry, frozen: datetime, time_machine, settings
) -> None:
    time_machine.move_to(NOW - timedelta(days=100), tick=False)
    make(alice, registry, "old", None)
    time_machine.move_to(NOW, tick=False)
    settings.DISABLE_UNUSED_AFTER_DAYS = 90
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    with pytest.raises(CommandError):
        send()
    # Disabled and told, or neither.
    assert LongTermCredential.objects.get().is_enabled
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.LONG_TERM_DISABLED).exists()


def test_the_reminder_says_the_days_actually_left(
    mailbox: Mailbox, alice: User, registry: Registry, frozen: datetime, time_machine
) -> None:
    expires_at = NOW + timedelta(days=30)
    make(alice, registry, "ci-bot", expires_at)
    # The sender ran last with 8 days left and next with 4 days and 2 hours left.
    time_machine.move_to(expires_at - timedelta(days=4, hours=2), tick=False)
    send()
    assert mailbox.subjects() == [
        f"Your long-term credential “ci-bot” for {registry.address} expires in 4 days"
    ]


# --- What a run costs, either policy ---------------------------------------------------


def _queries_for(count: int, registry: Registry, batch_size: int, report: str, **fields) -> int:
    """The queries of one lifecycle run over `count` fresh credentials (with `fields`), each of
    which it must act on (`report` counts them)."""
    owner = User.objects.create(username=f"owner{count}", email=f"o{count}@example.test")
    LongTermCredential.objects.bulk_create(
        LongTermCredential(
            owner=owner,
            registry=registry,
            name=f"bulk-{count}-{index}",
            username=f"cn-north-4@BULK{count:04d}{index:012d}",
            password_digest="0" * 64,
            **fields,
        )
        for index in range(count)
    )
    with CaptureQueriesContext(connection) as queries:
        done = lifecycle.run(batch_size=batch_size)
    assert getattr(done, report) == count
    return len(queries)


@pytest.mark.parametrize(
    ("policy", "fields", "report", "most_per_batch"),
    [
        pytest.param(
            {},
            # In the 7-day window.
            {"created_at": NOW - timedelta(days=30), "expires_at": NOW + timedelta(days=5)},
            "reminders_sent",
            4,  # savepoint, SELECT, INSERT … RETURNING, release
            id="reminders",
        ),
        pytest.param(
            {"DISABLE_UNUSED_AFTER_DAYS": 90},
            {"created_at": NOW - timedelta(days=300)},
            "disabled",
            6,  # savepoint, SELECT … FOR UPDATE, UPDATE, audit, owners
            id="stale",
        ),
    ],
)
def test_the_lifecycle_runs_a_constant_number_of_queries_per_batch(
    registry: Registry,
    frozen: datetime,
    settings,
    policy: dict[str, object],
    fields: dict[str, datetime],
    report: str,
    most_per_batch: int,
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    for name, value in policy.items():
        setattr(settings, name, value)
    batch = 5
    small = _queries_for(2 * batch, registry, batch, report, **fields)  # 2 batches
    large = _queries_for(4 * batch, registry, batch, report, **fields)  # 4 batches
    per_batch = (large - small) // 2
    assert large - small == 2 * per_batch
    # The two full batches of `small` cost 2 * per_batch on top of what an empty run costs.
    assert small - 2 * per_batch == _queries_for(0, registry, batch, report, **fields)
    assert per_batch <= most_per_batch, per_batch


def test_one_unsendable_reminder_fails_alone_and_the_run_says_so(
    mailbox: Mailbox, alice: User, registry: Registry, frozen: datetime, time_machine, caplog
) -> None:
    """Old data: an address with a line break, saved before the admin refused one. Its
    reminder cannot be composed; the other owners' reminders still go."""
    broken = Registry.objects.create(region=registry.region, name="old", address="old.test")
    bad_address = "old.test\r\nBcc: everyone@example.test"
    Registry.objects.filter(pk=broken.pk).update(address=bad_address)
    broken.refresh_from_db()
    bob = make_user("bob", email="bob@example.test")
    expires_at = NOW + timedelta(days=30)
    make(alice, broken, "alices", expires_at)
    make(bob, registry, "bobs", expires_at)
    time_machine.move_to(expires_at - timedelta(days=7), tick=False)
    out = StringIO()

    with pytest.raises(CommandError, match="1 reminder\\(s\\) not sent"):
        call_command("send_credential_reminders", stdout=out)

    assert "1 reminder(s) sent, 1 not sent" in out.getvalue()
    assert [m["To"] for m in mailbox.messages] == ["bob@example.test"]
    assert list(CredentialReminder.objects.values_list("credential__owner", flat=True)) == [bob.pk]
    assert "e-mail to a credential owner not sent" in caplog.text
    assert "Bcc" not in caplog.text
    assert "alice@example.test" not in caplog.text
