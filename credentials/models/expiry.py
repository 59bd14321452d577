"""A long-term credential's expiry: the default validity, and what the LONG_TERM_MAX_DAYS
policy allows (every channel that creates credentials comes through allowed_expiry)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from credentials.models.base import ConsoleError


class DefaultExpiry:
    """The type of DEFAULT_EXPIRY: "the default validity", as distinct from None (Never)."""


DEFAULT_EXPIRY: Final = DefaultExpiry()


class ExpiryRefused(ConsoleError):
    """The expiry asked for is in the past, or beyond what LONG_TERM_MAX_DAYS allows."""


def default_expiry(now: datetime) -> datetime | None:
    """Never, or with LONG_TERM_MAX_DAYS set, the longest validity it allows."""
    max_days = settings.LONG_TERM_MAX_DAYS
    return now + timedelta(days=max_days) if max_days else None


def allowed_expiry(expires_at: datetime | DefaultExpiry | None, now: datetime) -> datetime | None:
    """The expiry itself if it is in the future and within the policy; ConsoleError if not."""
    if isinstance(expires_at, DefaultExpiry):
        return default_expiry(now)
    max_days = settings.LONG_TERM_MAX_DAYS
    if expires_at is None:
        if max_days:
            raise ExpiryRefused(cap_message(max_days))
        return None
    if expires_at <= now:
        raise ExpiryRefused(_("The expiry must be in the future."))
    if max_days and expires_at > now + timedelta(days=max_days):
        raise ExpiryRefused(cap_message(max_days))
    return expires_at


def cap_message(max_days: int) -> str:
    return ngettext(
        "Long-term credentials must expire within %(days)d day (the administrator's policy).",
        "Long-term credentials must expire within %(days)d days (the administrator's policy).",
        max_days,
    ) % {"days": max_days}


def expired_message() -> str:
    return _(
        "This credential has expired: it cannot be enabled again or have its password reset. "
        "Delete it and create a new one."
    )
