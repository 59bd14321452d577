"""Moments in the two formats the console writes, one helper each so no copy can drift apart.

- For machines, ISO 8601 in UTC with a Z: the CSV's Created At, the registry token's issued_at,
  the built-in SWR API's expiries, the admin's exports.
- For people, `2026-11-30 14:00 UTC`: the tab, the admin's lists, the banner and the e-mails.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils import timezone

# The format people read, in the server's TIME_ZONE with its name. swrconsole/formats/ gives
# Django's own pages (the admin's detail pages, date filters) the same as DATETIME_FORMAT in
# each language; tests/test_i18n.py (test_one_date_format_with_its_time_zone) holds the two
# equal. strftime, because Django's format parser costs 30 µs a call: a tenth of an admin list
# of 50 rows.
SHOWN = "%Y-%m-%d %H:%M %Z"


def utc_iso(moment: datetime, *, microseconds: bool = False) -> str:
    """`2026-11-30T12:00:00Z`, or `2026-11-30T12:00:00.000000Z` with microseconds (SWR's API)."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if microseconds else "%Y-%m-%dT%H:%M:%SZ")


def shown(moment: datetime) -> str:
    """`2026-11-30 14:00 UTC`: the moment in the server's time zone, named."""
    return timezone.localtime(moment).strftime(SHOWN)
