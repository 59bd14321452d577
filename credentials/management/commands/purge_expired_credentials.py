from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from credentials.models import RefreshToken, TemporaryCredential


class Command(BaseCommand):
    help = (
        "Delete built-in temporary credentials that expired more than --days ago (they can no "
        "longer log in; their audit events stay), and registry refresh tokens past their "
        "lifetime. Run it daily, e.g. from cron."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=7,
            help="Keep temporary credentials expired less than this many days ago (default 7; "
            "0 deletes every expired one).",
        )

    def handle(self, *args: Any, days: int, **options: Any) -> None:
        if days < 0:  # a cutoff in the future would delete credentials still valid
            raise CommandError(
                "--days must be 0 or more: a negative number would delete temporary "
                "credentials that are still valid. Nothing was deleted."
            )
        cutoff = timezone.now() - timedelta(days=days)
        deleted, _ = TemporaryCredential.objects.filter(expires_at__lt=cutoff).delete()
        self.stdout.write(
            f"Deleted {deleted} temporary credential(s) expired before {cutoff:%Y-%m-%d %H:%M} UTC."
        )
        # A refresh token is refused from the moment it expires; nothing needs it after.
        now = timezone.now()
        deleted, _ = RefreshToken.objects.expired(now).delete()
        self.stdout.write(f"Deleted {deleted} registry refresh token(s) expired before now.")
