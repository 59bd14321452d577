"""An audit event as an RFC 5424 syslog message, octet-counted for a TCP or TLS stream
(RFC 6587 section 3.4.1, as RFC 5425 frames TLS). Pure: no Django, no network.

    <110>1 2026-05-04T10:11:12.131415Z console-1 swrconsole - audit
        [audit@32473 id="812" seq="811" digest="9f3c…"] {"id": 812, "seq": 811, …}

PRI 110 is facility 13 (log audit) at severity 6 (informational). The structured data carries
the event's id, its position in the hash chain and its chain digest; the MSG is the event as
ASCII JSON (every other character \\u-escaped), so it needs no byte-order mark and holds no
line break. The event's fields are those the trail stores, none of them a secret.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any, Protocol

# RFC 5424 section 6.3.2: an SD-ID with an @ names its owner by an IANA enterprise number
# (32473 is the one reserved for documentation, RFC 5612).
SD_ID = "audit@32473"
MSGID = "audit"
APP_NAME = "swrconsole"
PRI = 13 * 8 + 6
# What RFC 5424's HOSTNAME may hold: 1-255 printable US-ASCII characters, no space.
_NOT_PRINTUSASCII = re.compile(r"[^\x21-\x7e]")


class Event(Protocol):
    """What a message is made of (credentials.models.AuditEvent has it)."""

    id: int
    created_at: datetime
    action: str
    channel: str
    actor_id: int | None
    actor_username: str
    ip_address: str | None
    user_agent: str
    registry_id: int | None
    registry_address: str
    credential_public_id: Any
    credential_name: str
    credential_username: str
    detail: Any
    prev_hash: str
    hash: str


def sd_escape(value: str) -> str:
    """An SD-PARAM value as RFC 5424 section 6.3.3 writes it: `"`, `\\` and `]` escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def hostname(name: str) -> str:
    """`name` as a HOSTNAME field: printable ASCII, at most 255 characters, or the NILVALUE."""
    return _NOT_PRINTUSASCII.sub("", name)[:255] or "-"


def content(event: Event, seq: int) -> dict[str, Any]:
    """The event as the message's JSON carries it."""
    return {
        "id": event.id,
        "seq": seq,
        "time": _timestamp(event.created_at),
        "action": event.action,
        "channel": event.channel,
        "actor": event.actor_username,
        "actor_id": event.actor_id,
        "ip_address": event.ip_address,
        "user_agent": event.user_agent,
        "registry": event.registry_address,
        "registry_id": event.registry_id,
        "credential_public_id": (
            str(event.credential_public_id) if event.credential_public_id else None
        ),
        "credential_name": event.credential_name,
        "credential_username": event.credential_username,
        "detail": event.detail,
        "prev_digest": event.prev_hash,
        "digest": event.hash,
    }


def message(event: Event, seq: int, host: str) -> bytes:
    """One RFC 5424 message of `event` at position `seq`, sent from `host`."""
    params = " ".join(
        f'{name}="{sd_escape(str(value))}"'
        for name, value in (("id", event.id), ("seq", seq), ("digest", event.hash))
    )
    body = json.dumps(content(event, seq), ensure_ascii=True, separators=(",", ":"), default=str)
    header = f"<{PRI}>1 {_timestamp(event.created_at)} {hostname(host)} {APP_NAME} - {MSGID}"
    return f"{header} [{SD_ID} {params}] {body}".encode("ascii")


def framed(payload: bytes) -> bytes:
    """Octet counting: the message's length in bytes, a space, the message."""
    return b"%d %s" % (len(payload), payload)


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
