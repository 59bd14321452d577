"""Send the audit trail to the syslog receiver at AUDIT_SYSLOG_URL, each event once, in order
(credentials/streaming/). Long-running (the compose service `audit-stream`); `--once` sends
what waits and exits. Several may run: one sends, the others stand by."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import InterfaceError, OperationalError

from credentials.models import audit_stream_backlog, audit_stream_enabled
from credentials.streaming.receiver import Receiver, ReceiverDown
from credentials.streaming.sender import AnotherSender, Pacing, stream


class Command(BaseCommand):
    help = (
        "Send every audit event to the syslog receiver at AUDIT_SYSLOG_URL (RFC 5424 over TCP "
        "or TLS), in chain order, each once; wait out a receiver that is down."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="Send what waits now, then exit (1 if it cannot)."
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="Seconds between looks for new events, and the first pause after a failure "
            "(default 1).",
        )
        parser.add_argument(
            "--max-backoff",
            type=float,
            default=30.0,
            help="The longest pause while the receiver is down; pauses double up to it "
            "(default 30).",
        )
        parser.add_argument(
            "--batch-size", type=int, default=100, help="Events a write (default 100)."
        )
        parser.add_argument(
            "--timeout",
            type=float,
            default=10.0,
            help="Seconds to connect and for the receiver to acknowledge a write (default 10).",
        )
        parser.add_argument(
            "--lock-wait",
            type=float,
            default=60.0,
            help="With --once: how long to wait while another sender is streaming (default 60).",
        )

    def handle(self, *args: Any, once: bool, **options: Any) -> None:
        if not settings.AUDIT_SYSLOG_URL:
            raise CommandError("AUDIT_SYSLOG_URL is not set: there is no receiver to send to.")
        for name in ("interval", "max_backoff", "timeout"):
            if options[name] <= 0:
                raise CommandError(f"--{name.replace('_', '-')} must be more than 0.")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be 1 or more.")
        if not audit_stream_enabled():
            raise CommandError(
                "The database does not queue audit events for the stream: run `manage.py "
                "migrate` (or prepare_database) with AUDIT_SYSLOG_URL set, then start again."
            )
        pacing = Pacing(
            interval=options["interval"],
            max_backoff=max(options["max_backoff"], options["interval"]),
            batch_size=options["batch_size"],
            lock_wait=options["lock_wait"],
        )
        receiver = Receiver(
            settings.AUDIT_SYSLOG_URL, settings.AUDIT_SYSLOG_CA_FILE, options["timeout"]
        )
        stop = threading.Event()
        if not once and threading.current_thread() is threading.main_thread():
            # docker stop, systemd: finish the batch in hand, then exit.
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            sent = stream(receiver, pacing, once=once, stop=stop)
        except (ReceiverDown, AnotherSender, OperationalError, InterfaceError) as exc:
            raise CommandError(
                f"Audit stream: {exc}. Nothing was lost: what was not accepted waits "
                "in the outbox for the next run."
            ) from exc
        self.stdout.write(
            f"{sent} audit event(s) sent to {settings.AUDIT_SYSLOG_URL}; "
            f"{audit_stream_backlog()} waiting."
        )
