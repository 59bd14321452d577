"""Who is asking: a credential verified in one written-out lookup and one HMAC, and what
using it records (Last Used at most once a minute, refresh tokens bound to it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from credentials.models import (
    LongTermCredential,
    RefreshToken,
    Registry,
    TemporaryCredential,
    User,
    password_matches,
)
from credentials.models.long_term import login_allowed_sql
from credentials.models.sql import fetch_one

LAST_USED_PRECISION = timedelta(minutes=1)
# Longest username or password we look at; anything longer is refused before any work.
MAX_CREDENTIAL_LENGTH = 256


@dataclass(frozen=True)
class Principal:
    """A verified credential: who it is, whose permissions it carries, and where it may act."""

    username: str
    long_term_id: int | None = None
    # The credential's owner (a temporary credential's user): whose permissions it carries.
    owner_id: int | None = None
    # Whether Last Used was recorded less than LAST_USED_PRECISION ago (long-term only).
    last_used_recently: bool = False
    # The registry the client named (`service`), when the credential may act there: a
    # long-term credential at its own registry, a temporary one at its project's. None: the
    # credential may not be used at that service (or none was named).
    registry_id: int | None = None
    # A temporary credential's row and expiry (for the refresh tokens it may be issued).
    temporary_id: int | None = None
    temporary_expires_at: datetime | None = None
    # A long-term credential's password version that was presented: the current one, or the
    # one before it during a reset's overlap (a refresh token issued now is bound to it).
    password_version: int | None = None


# The hot path's one query, written out: the ORM would spend longer compiling it than the
# database spends answering it (see docs/PERFORMANCE.md). Whether Last Used is recent is
# answered by the database against the cutoff we pass (our clock, as the UPDATE uses), so no
# timestamp is read back on every request. Long-term and temporary credentials are looked up
# in the same statement, so a known username and an unknown one cost the same queries.
# Expiry is compared the same way: a long-term credential is refused from its expires_at on
# (our clock, as every write uses). After Reset Password the replaced password's digest comes
# back too, only while its overlap lasts (NULL otherwise), and the password's version. The
# registry the client named comes back when the credential may act there (its own registry;
# a temporary credential's: any of its project's, one unique-index probe).
_LOOKUP = f"""
    SELECT c.id, c.owner_id, c.password_digest,
           {login_allowed_sql("c", "u")},
           c.last_used_at > %s, CASE WHEN r.address = %s THEN r.id END,
           CASE WHEN c.previous_password_until > %s THEN c.previous_password_digest END,
           NULL, NULL, c.password_version
    FROM {LongTermCredential._meta.db_table} c
    JOIN {User._meta.db_table} u ON u.id = c.owner_id
    JOIN {Registry._meta.db_table} r ON r.id = c.registry_id
    WHERE c.username = %s
    UNION ALL
    SELECT NULL, t.user_id, t.password_digest, u.is_active, false, r.id, NULL,
           t.id, t.expires_at, NULL
    FROM {TemporaryCredential._meta.db_table} t
    JOIN {User._meta.db_table} u ON u.id = t.user_id
    LEFT JOIN {Registry._meta.db_table} r ON r.address = %s AND r.project_name = t.project_name
    WHERE t.username = %s AND t.expires_at > %s
    LIMIT 1
"""  # noqa: S608 - table names from model metadata, the values are parameters
# Compared against when the username is unknown, so that case costs the same HMAC too.
_NO_DIGEST = "0" * 64


def verify(username: str, password: str, service: str) -> Principal | None:
    """The credential `username` if `password` is its password and it may log in now, with
    the registry `service` names if it may act there (`registry_id`; None: refuse it).

    One indexed lookup by username (long-term and temporary together, joined with the owner
    and registry) and one HMAC, whether or not the username exists (a second only during a
    reset's overlap, for a password that is not the current one).
    """
    now = timezone.now()
    row = fetch_one(
        _LOOKUP,
        [now, now - LAST_USED_PRECISION, service, now, username, service, username, now],
        times=[8],
    )
    digest = row[2] if row is not None else _NO_DIGEST
    matches = password_matches(password, digest)
    previous = row[6] if row is not None else None
    replaced = False
    if not matches and previous is not None:  # the password a reset replaced, still in overlap
        matches = replaced = password_matches(password, previous)
    if row is None or not matches:
        return None
    (pk, owner_id, _, allowed, used_recently, registry_id, _, temporary_id, expires_at,
     version) = row  # fmt: skip
    if not allowed:
        return None
    if pk is None:
        return Principal(
            username,
            owner_id=owner_id,
            registry_id=registry_id,
            temporary_id=temporary_id,
            temporary_expires_at=expires_at,
        )
    return Principal(
        username,
        pk,
        owner_id,
        last_used_recently=bool(used_recently),  # NULL when never used
        registry_id=registry_id,
        password_version=version - 1 if replaced else version,
    )


def issue_refresh_token(principal: Principal, service: str) -> str:
    return RefreshToken.objects.issue(
        service=service,
        long_term_id=principal.long_term_id,
        password_version=principal.password_version,
        temporary_id=principal.temporary_id,
        temporary_expires_at=principal.temporary_expires_at,
    )


def touch_last_used(principal: Principal) -> None:
    """Record use of a long-term credential at most once a minute: one conditional UPDATE,
    skipped when fresh (and the owner's credentials_version, so their tab shows it)."""
    if principal.long_term_id is None or principal.last_used_recently:
        return
    now = timezone.now()
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_PRECISION)
    with transaction.atomic():
        touched = LongTermCredential.objects.filter(stale, pk=principal.long_term_id).update(
            last_used_at=now
        )
        if touched:
            User.objects.credentials_changed(principal.owner_id)
