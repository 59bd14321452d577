"""Reminders of expiry: one row per e-mail sent to a credential's owner, so that each goes
out once (credentials/lifecycle/schedule.py)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credentials.models.long_term import LongTermCredential


class CredentialReminder(models.Model):
    """An e-mail sent to a credential's owner about its expiry: one row per credential and
    kind, so each reminder goes out once however often, and however many, senders run
    (credentials/lifecycle/schedule.py inserts the row and sends in one transaction)."""

    EXPIRED = "expired"

    credential = models.ForeignKey(
        LongTermCredential,
        on_delete=models.CASCADE,
        related_name="reminders",
        db_index=False,  # the unique constraint's index leads with it
        verbose_name=_("credential"),
    )
    # "14d", "7d", "1d" (days before; see EXPIRY_REMINDER_DAYS) or "expired".
    kind = models.CharField(_("kind"), max_length=16)
    # The expiry the reminder announced.
    expires_at = models.DateTimeField(_("expires at"))
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)

    class Meta:
        verbose_name = _("credential reminder")
        verbose_name_plural = _("credential reminders")
        constraints = [
            models.UniqueConstraint(fields=["credential", "kind"], name="one_reminder_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.credential_id}: {self.kind}"

    @staticmethod
    def kind_for_days(days: int) -> str:
        return f"{days}d"
