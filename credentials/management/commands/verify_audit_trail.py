from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from credentials.security import audit_chain


class Command(BaseCommand):
    help = (
        "Check the audit trail's hash chain and name the first missing, altered or reordered "
        "event, the first dated before the event it follows, or one the chain does not reach "
        "(the table's count against the chain's length). Prints the chain's head: record it "
        "somewhere outside the database and pass it back with --expect-head to also catch a "
        "trail cut short or rebuilt whole."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch-size", type=int, default=10_000)
        parser.add_argument(
            "--expect-head", default="", help="POSITION:HASH printed by an earlier run."
        )

    def handle(self, *args: Any, batch_size: int, expect_head: str, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("The audit trail is chained on PostgreSQL only.")
        head = None
        if expect_head:
            position, _, digest = expect_head.partition(":")
            if not position.isdigit() or len(digest) != 64:
                raise CommandError("--expect-head is POSITION:HASH, as a run printed it.")
            head = (int(position), digest)
        report = audit_chain.verify(batch_size=max(1, batch_size), expect_head=head)
        if report.problem:
            raise CommandError(
                f"The audit trail is broken: {report.problem}. "
                f"{report.events} event(s) before it verified."
            )
        self.stdout.write(
            f"The audit trail verifies: {report.events} event(s), "
            f"head {report.head_seq}:{report.head_hash}"
        )
