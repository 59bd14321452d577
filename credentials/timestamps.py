"""Moments in the formats machines read: ISO 8601 in UTC, with a Z.

One helper for every such timestamp (the CSV's Created At, the registry token's issued_at, the
built-in SWR API's expiries, the audit trail's details), so they cannot drift apart.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc_iso(moment: datetime, *, microseconds: bool = False) -> str:
    """`2026-11-30T12:00:00Z`, or `2026-11-30T12:00:00.000000Z` with microseconds (SWR's API)."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if microseconds else "%Y-%m-%dT%H:%M:%SZ")
