"""The audit trail streamed out (issue 26): every audit event is queued in its own transaction
and sent by `manage.py stream_audit_trail` to a real rsyslog (one per module, TCP and TLS) as
an RFC 5424 message, in chain order, each once, surviving a receiver that is down."""

from __future__ import annotations

import datetime
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import Client

from credentials.models import (
    AuditEvent,
    AuditOutbox,
    LongTermCredential,
    Registry,
    User,
    audit_stream_backlog,
    switch_audit_stream,
)
from credentials.streaming import syslog
from swrconsole.environment import Env
from tests import servers
from tests.helpers import (
    ROOT,
    client_for,
    create,
    make_user,
    new_credential,
    op_url,
    settings_import,
)
from tests.syslog import Received, Rsyslog, certificate_authority, wait_for

# The sender's subprocesses read what the test committed.
streamed = pytest.mark.django_db(transaction=True)
PASSWORD_SHAPE = re.compile(r"\b[0-9a-f]{64}\b")


@pytest.fixture(scope="module")
def rsyslog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rsyslog]:
    receiver = Rsyslog(tmp_path_factory.mktemp("rsyslog"))
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()


@pytest.fixture
def stream_to(settings, transactional_db: None):
    """Point AUDIT_SYSLOG_URL at `url` and switch the stream on, as migrate does."""

    def point(url: str, ca_file: str = "") -> None:
        settings.AUDIT_SYSLOG_URL = url
        settings.AUDIT_SYSLOG_CA_FILE = ca_file
        assert switch_audit_stream() is True

    return point


def position(event: AuditEvent) -> int:
    """An event's place in the trail: its chain position (PostgreSQL), its id (SQLite)."""
    return event.chain_seq if connection.vendor == "postgresql" else event.id


def trail() -> list[AuditEvent]:
    return sorted(AuditEvent.objects.all(), key=position)


def sender_env(url: str, ca_file: str = "") -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SWR_TEST_")}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env | {
        "DATABASE_URL": servers.test_database_url(),
        "AUDIT_SYSLOG_URL": url,
        "AUDIT_SYSLOG_CA_FILE": ca_file,
        "LOG_FILE": "",
        "LOG_FORMAT": "text",
    }


def sender(url: str, log: Path, *arguments: str) -> subprocess.Popen:
    with log.open("w") as output:
        return subprocess.Popen(
            [sys.executable, "manage.py", "stream_audit_trail", *arguments],
            cwd=ROOT,
            env=sender_env(url),
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def received_of(rsyslog: Rsyslog, events: list[AuditEvent]) -> list[Received]:
    ids = {event.id for event in events}
    return [message for message in rsyslog.received() if message.id in ids]


def wait_until_received(rsyslog: Rsyslog, events: list[AuditEvent]) -> list[Received]:
    ids = {event.id for event in events}
    wait_for(
        lambda: ids <= {message.id for message in rsyslog.received()},
        f"rsyslog receiving events {sorted(ids)}",
    )
    return received_of(rsyslog, events)


def assert_streamed_in_chain_order(received: list[Received], events: list[AuditEvent]) -> None:
    """rsyslog received exactly `events`, each once, in chain order, with consecutive
    positions and the table's digests."""
    assert [message.id for message in received] == [event.id for event in events]
    seqs = [message.seq for message in received]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs
    assert seqs == [position(event) for event in events]
    assert [message.digest for message in received] == [event.hash for event in events]
    assert {message.msgid for message in received} == {"audit"}
    assert [message.body["action"] for message in received] == [e.action for e in events]
    if connection.vendor == "postgresql":  # the chain: each digest follows the one before
        assert [m.body["prev_digest"] for m in received[1:]] == [e.hash for e in events[:-1]]


def console_events(owner: User, registry: Registry) -> list[str]:
    """Events made through the console's own code (pages, sign-in, the admin's cascade); the
    passwords it showed."""
    client = client_for(owner)
    shown = PASSWORD_SHAPE.findall(create(client, registry, "stream-one").content.decode())
    shown += PASSWORD_SHAPE.findall(create(client, registry, "stream-two").content.decode())
    one = LongTermCredential.objects.get(name="stream-one")
    for operation in ("disable", "enable", "reset", "delete"):
        response = client.post(op_url(operation, one), headers={"HX-Request": "true"})
        assert response.status_code == 200, operation
        shown += PASSWORD_SHAPE.findall(response.content.decode())
    assert not Client().login(username=owner.username, password="wrong")  # a signal's event
    leaving = make_user("leaving")
    shown.append(new_credential(leaving, registry, "leaving-one")[1])
    leaving.delete()  # its credential's deletion audited by a signal (bulk_create)
    assert len(shown) >= 3
    return shown


@streamed
def test_every_console_event_reaches_rsyslog_once_in_chain_order_with_its_digest(
    rsyslog: Rsyslog, stream_to, owner: User, registry: Registry
) -> None:
    stream_to(rsyslog.tcp_url)
    shown = console_events(owner, registry)
    events = trail()
    assert len(events) >= 9
    assert audit_stream_backlog() == len(events)

    call_command("stream_audit_trail", "--once", "--batch-size", "4")

    received = wait_until_received(rsyslog, events)
    assert_streamed_in_chain_order(received, events)
    assert audit_stream_backlog() == 0
    assert {(m.body["action"], m.body["credential_name"]) for m in received} >= {
        ("long_term.created", "stream-one"),
        ("long_term.disabled", "stream-one"),
        ("long_term.enabled", "stream-one"),
        ("long_term.password_reset", "stream-one"),
        ("long_term.deleted", "stream-one"),
        ("long_term.deleted", "leaving-one"),
        ("console.sign_in_failed", ""),
    }
    text = rsyslog.file.read_text()
    assert not [password for password in shown if password in text]


@streamed
def test_a_stopped_receiver_keeps_the_backlog_and_the_running_sender_sends_it_when_back(
    rsyslog: Rsyslog, stream_to, owner: User, registry: Registry, tmp_path: Path
) -> None:
    stream_to(rsyslog.tcp_url)
    log = tmp_path / "sender.log"
    running = sender(rsyslog.tcp_url, log, "--interval", "0.05", "--max-backoff", "0.4")
    try:
        new_credential(owner, registry, "before-the-stop")
        wait_until_received(rsyslog, trail())
        wait_for(lambda: audit_stream_backlog() == 0, "the outbox emptied")
        # A second sender stands by while this one streams (here: gives up waiting).
        with pytest.raises(CommandError, match="another sender held the lock"):
            call_command("stream_audit_trail", "--once", "--lock-wait", "0.2", "--interval", "0.05")

        rsyslog.stop()
        try:
            for name in ("while-down-1", "while-down-2", "while-down-3"):
                new_credential(owner, registry, name)
            assert audit_stream_backlog() == 3
            wait_for(lambda: log.read_text().count("trying again") >= 2, "two failed attempts")
            assert running.poll() is None, log.read_text()
            assert audit_stream_backlog() == 3
        finally:
            rsyslog.start()

        events = trail()
        received = wait_until_received(rsyslog, events)
        assert_streamed_in_chain_order(received, events)
        wait_for(lambda: audit_stream_backlog() == 0, "the outbox emptied")
    finally:
        running.send_signal(signal.SIGTERM)
        assert running.wait(timeout=30) == 0, log.read_text()
    assert "audit event(s) sent" in log.read_text()


@streamed
def test_two_senders_at_once_send_each_event_once_and_in_order(
    rsyslog: Rsyslog, stream_to, owner: User, registry: Registry, tmp_path: Path
) -> None:
    stream_to(rsyslog.tcp_url)
    for number in range(12):
        new_credential(owner, registry, f"raced-{number}")
    events = trail()

    senders = [
        sender(rsyslog.tcp_url, tmp_path / f"sender-{n}.log", "--once", "--batch-size", "2")
        for n in range(2)
    ]
    for n, process in enumerate(senders):
        assert process.wait(timeout=120) == 0, (tmp_path / f"sender-{n}.log").read_text()

    received = wait_until_received(rsyslog, events)
    assert_streamed_in_chain_order(received, events)
    assert audit_stream_backlog() == 0


@streamed
def test_events_reach_rsyslogs_tls_listener_its_certificate_checked_against_the_ca(
    rsyslog: Rsyslog, stream_to, owner: User, registry: Registry
) -> None:
    stream_to(rsyslog.tls_url, str(rsyslog.ca_file))
    new_credential(owner, registry, "over-tls")
    events = trail()

    call_command("stream_audit_trail", "--once")

    assert_streamed_in_chain_order(wait_until_received(rsyslog, events), events)
    assert audit_stream_backlog() == 0


@streamed
def test_a_tls_receiver_the_ca_did_not_sign_for_is_refused_and_every_event_waits(
    rsyslog: Rsyslog, stream_to, owner: User, registry: Registry, tmp_path: Path
) -> None:
    other_ca = certificate_authority(tmp_path, "other")[0]
    stream_to(rsyslog.tls_url, str(other_ca))
    new_credential(owner, registry, "not-over-tls")

    with pytest.raises(CommandError, match="CERTIFICATE_VERIFY_FAILED"):
        call_command("stream_audit_trail", "--once")

    assert audit_stream_backlog() == 1
    assert not received_of(rsyslog, trail())


@streamed
def test_once_with_the_receiver_down_fails_and_keeps_every_event(
    stream_to, owner: User, registry: Registry
) -> None:
    stream_to(f"tcp://127.0.0.1:{servers.free_port()}")
    new_credential(owner, registry, "nobody-listens")

    with pytest.raises(CommandError, match=r"Connection refused\. Nothing was lost"):
        call_command("stream_audit_trail", "--once")

    assert audit_stream_backlog() == 1


@pytest.mark.django_db
def test_an_event_and_its_outbox_row_commit_or_roll_back_together(
    settings, owner: User, registry: Registry
) -> None:
    settings.AUDIT_SYSLOG_URL = "tcp://127.0.0.1:6514"
    switch_audit_stream()
    queued_inside = []

    def rolled_back() -> None:
        with transaction.atomic():
            new_credential(owner, registry, "rolled-back")
            queued_inside.append(audit_stream_backlog())
            raise RuntimeError

    with pytest.raises(RuntimeError):
        rolled_back()
    assert queued_inside == [1]
    assert audit_stream_backlog() == 0
    new_credential(owner, registry, "kept")
    queued = AuditOutbox.objects.get()
    assert queued.event.credential_name == "kept"
    assert queued.seq == position(queued.event)


@pytest.mark.django_db
def test_an_event_a_migration_inserts_with_sql_is_queued_too(settings) -> None:
    settings.AUDIT_SYSLOG_URL = "tcp://127.0.0.1:6514"
    switch_audit_stream()
    with connection.cursor() as cursor:  # as 0007 wrote its marker: no ORM, no signal
        cursor.execute(
            "INSERT INTO credentials_auditevent (created_at, action, channel, actor_username, "
            "user_agent, registry_address, credential_name, credential_username, detail, "
            "prev_hash, hash) VALUES (CURRENT_TIMESTAMP, 'audit.database_clock', 'system', '', "
            "'', '', '', '', '{}', '', '')"
        )
    assert [row.event.action for row in AuditOutbox.objects.all()] == ["audit.database_clock"]


@pytest.mark.django_db
def test_with_audit_syslog_url_unset_nothing_is_queued_and_the_backlog_is_zero(
    settings, owner: User, registry: Registry
) -> None:
    settings.AUDIT_SYSLOG_URL = "tcp://127.0.0.1:6514"
    switch_audit_stream()
    new_credential(owner, registry, "queued")

    settings.AUDIT_SYSLOG_URL = ""
    assert switch_audit_stream() is False
    new_credential(owner, registry, "not-queued")

    assert audit_stream_backlog() == 0
    # What waited stays for the day the stream is on again: nothing queued is dropped.
    assert [row.event.credential_name for row in AuditOutbox.objects.all()] == ["queued"]


@pytest.mark.django_db
def test_the_sender_refuses_to_start_without_a_receiver_or_with_the_stream_off(settings) -> None:
    settings.AUDIT_SYSLOG_URL = ""
    with pytest.raises(CommandError, match="AUDIT_SYSLOG_URL is not set"):
        call_command("stream_audit_trail", "--once")
    switch_audit_stream()
    settings.AUDIT_SYSLOG_URL = "tcp://127.0.0.1:6514"
    with pytest.raises(CommandError, match=r"run `manage\.py migrate`"):
        call_command("stream_audit_trail", "--once")


class _Event:
    id = 7
    created_at = datetime.datetime(2026, 5, 4, 10, 11, 12, 131415, tzinfo=datetime.UTC)
    action = "long_term.created"
    channel = "console"
    actor_id = 3
    actor_username = "alice"
    ip_address = "192.0.2.1"
    user_agent = 'curl "8" ]\\'
    registry_id = 1
    registry_address = "swr.example"
    credential_public_id = None
    credential_name = "ci"
    credential_username = "cn-north-4@ABC"
    detail = {"reason": 'naïve ] \\ "'}
    prev_hash = "a" * 64
    hash = "b" * 64


def test_sd_param_values_escape_quotes_backslashes_and_closing_brackets() -> None:
    assert syslog.sd_escape('a"b\\c]d') == 'a\\"b\\\\c\\]d'


def test_a_message_is_rfc_5424_octet_counted_with_the_audit_structured_data() -> None:
    message = syslog.message(_Event(), 6, "console 1\n")
    framed = syslog.framed(message)
    length, _, rest = framed.partition(b" ")
    assert int(length) == len(rest) == len(message)
    assert message.startswith(
        b"<110>1 2026-05-04T10:11:12.131415Z console1 swrconsole - audit "
        b'[audit@32473 id="7" seq="6" digest="' + b"b" * 64 + b'"] {'
    )
    body = message.split(b"] ", 1)[1]
    assert body.isascii()
    assert b"\n" not in body
    assert b"\\u00efve" in body  # naïve, escaped: the MSG is ASCII


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"AUDIT_SYSLOG_URL": "udp://127.0.0.1:514"}, "AUDIT_SYSLOG_URL must be tcp://host:port"),
        ({"AUDIT_SYSLOG_URL": "tcp://syslog.example"}, "AUDIT_SYSLOG_URL must be tcp://host:port"),
        ({"AUDIT_SYSLOG_URL": "tcp://h:70000"}, "AUDIT_SYSLOG_URL must be tcp://host:port"),
        ({"AUDIT_SYSLOG_URL": "tcp://h:514/x"}, "AUDIT_SYSLOG_URL must be tcp://host:port"),
        ({"AUDIT_SYSLOG_URL": "tcp://u:se[cret@h:514"}, "not a URL with a user part"),
        (
            {"AUDIT_SYSLOG_URL": "tcp://h:514", "AUDIT_SYSLOG_CA_FILE": "/etc/hostname"},
            "AUDIT_SYSLOG_CA_FILE is set but the receiver's URL is not tls://",
        ),
        (
            {"AUDIT_SYSLOG_URL": "tls://h:6514", "AUDIT_SYSLOG_CA_FILE": "/nonexistent/ca.pem"},
            "AUDIT_SYSLOG_CA_FILE: cannot read /nonexistent/ca.pem (No such file or directory)",
        ),
        (
            {"AUDIT_SYSLOG_URL": "tls://h:6514", "AUDIT_SYSLOG_CA_FILE": __file__},
            "holds no PEM certificate",
        ),
    ],
)
def test_bad_stream_settings_are_refused(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    read = Env()
    with pytest.raises(ImproperlyConfigured) as refused:
        read.syslog_ca_file("AUDIT_SYSLOG_CA_FILE", read.syslog_url("AUDIT_SYSLOG_URL"))
    assert message in str(refused.value)
    assert "se[cret" not in str(refused.value)


def test_the_settings_refuse_a_bad_receiver_at_start_and_read_a_good_one() -> None:
    production = {
        "DEBUG": "false",
        "SECRET_KEY": "s" * 50,
        "CREDENTIAL_HASH_KEY": "k",
        "ACCESS_KEY_ENCRYPTION_KEYS": "dGVzdC1vbmx5LWFjY2Vzcy1rZXktZW5jcnlwdGlvbiE=",
    }
    result = settings_import(production | {"AUDIT_SYSLOG_URL": "syslog.example:514"})
    assert result.returncode != 0
    assert "AUDIT_SYSLOG_URL must be tcp://host:port or tls://host:port" in result.stderr
    code = "import django; django.setup(); from django.conf import settings as s; print(s.AUDIT_SYSLOG_URL)"
    started = settings_import(production | {"AUDIT_SYSLOG_URL": "tls://siem.example:6514"}, code)
    assert started.stdout.strip() == "tls://siem.example:6514", started.stderr
