"""Send the e-mails the credential lifecycle owes, and disable unused credentials when the
policy asks. Idempotent: run it every few minutes (cron, a systemd timer, the compose
service `lifecycle`); each reminder goes out once however often it runs."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from credentials.lifecycle import schedule


class Command(BaseCommand):
    help = (
        "E-mail owners whose long-term credentials expire soon or have expired (each reminder "
        "once), and disable credentials unused for DISABLE_UNUSED_AFTER_DAYS when it is set."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=500,
            help="Credentials handled per transaction (default 500).",
        )

    def handle(self, *args: Any, batch_size: int, **options: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be 1 or more.")
        try:
            report = schedule.run(batch_size=batch_size)
        except OSError as exc:  # no mail server answered: nothing of that batch was kept
            raise CommandError(f"Cannot send e-mail: {exc}. Nothing unsent was recorded.") from exc
        self.stdout.write(
            f"{report.reminders_sent} reminder(s) sent, {report.reminders_failed} not sent "
            f"(retried on the next run), {report.disabled} unused credential(s) disabled."
        )
        if report.reminders_failed:  # every other reminder went; the exit status still says so
            raise CommandError(
                f"{report.reminders_failed} reminder(s) not sent: refused by the mail server or "
                "not composable (see the log). Each is retried on the next run."
            )
