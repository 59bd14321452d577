"""What every part of the domain shares: names, generated secrets and their digests, the Actor
that audit events record, ConsoleError, insert_together, and IndexedDatesQuerySet."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models.expressions import DatabaseDefault
from django.utils import timezone

if TYPE_CHECKING:
    from django.http import HttpRequest

    from credentials.models.users import User

_ID_ALPHABET = string.ascii_uppercase + string.digits
# The console's banner names the user's credentials that expire within this many days.
EXPIRY_BANNER_DAYS = 7
# User.credentials_deadline when nothing will change with time alone.
NO_DEADLINE = datetime(9999, 12, 31, tzinfo=UTC)


class ConsoleError(Exception):
    """A domain rule refused an action; the message is meant for the user."""


def generate_username(region: str) -> str:
    """`<region>@<ID>`, ID being 20 random uppercase letters and digits (SWR's shape)."""
    return f"{region}@{''.join(secrets.choice(_ID_ALPHABET) for _ in range(20))}"


# The shape of what generate_username makes, as of SWR's own logins (`<region>@<AK>`): a
# region in lower case, an ID in upper case (20 characters from us, any length accepted). A
# password of ours (lower-case hex) or a secret key (mixed case, no `@`) never has it.
_REGISTRY_USERNAME = re.compile(r"[a-z][a-z0-9-]{0,62}@[A-Z0-9]{1,64}")


def looks_like_registry_username(text: str) -> bool:
    """Whether `text` has the shape of a registry login's username (generate_username)."""
    return _REGISTRY_USERNAME.fullmatch(text) is not None


def generate_password() -> str:
    """64 lowercase hex characters: 256 random bits, shell-safe."""
    return secrets.token_hex(32)


def digest_password(password: str) -> str:
    """Keyed digest stored instead of the password (HMAC-SHA256, CREDENTIAL_HASH_KEY).

    The password is 256 random bits, so a slow KDF adds nothing; the key means a stolen
    table alone cannot be used to test guesses.
    """
    key = settings.CREDENTIAL_HASH_KEY.encode()
    return hmac.new(key, password.encode(), hashlib.sha256).hexdigest()


def password_matches(password: str, digest: str) -> bool:
    """Constant-time comparison of a presented password with a stored digest."""
    return hmac.compare_digest(digest_password(password), digest)


@dataclass(frozen=True)
class Actor:
    """Who did something, and from where: what every audit event records."""

    user: User | None
    ip_address: str | None = None
    user_agent: str = ""
    # Who it claimed to be, when there is no user (a failed sign-in).
    username: str = ""
    # Where the action came in: the console's pages and admin, or the API (credentials/api/).
    channel: str = "console"

    @classmethod
    def from_request(cls, request: HttpRequest) -> Actor:
        user = getattr(request, "user", None)
        match = getattr(request, "resolver_match", None)
        return cls(
            user=user if user is not None and user.is_authenticated else None,  # type: ignore[arg-type]
            ip_address=request.META.get("REMOTE_ADDR") or None,
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
            # Huawei's API (credentials/api/urls.py) names its routes api_*.
            channel="api" if match and (match.url_name or "").startswith("api_") else "console",
        )


def insert_together(*rows: models.Model) -> None:
    """INSERT new rows, all or none.

    On PostgreSQL in one statement, each row a data-modifying WITH clause: one round trip and
    no BEGIN/COMMIT, where the ORM spends four round trips on two rows in a transaction (see
    docs/PERFORMANCE.md); no save signals are sent. Elsewhere (SQLite), saved in a transaction.
    """
    if connection.vendor != "postgresql":
        with transaction.atomic():
            for row in rows:
                row.save(force_insert=True)
        return
    # Table and column names come from model metadata; every value is a parameter, or DEFAULT
    # for a field the database fills in (db_default), read back like every db_returning field.
    quote = connection.ops.quote_name
    clauses, params, returned = [], [], []
    for index, row in enumerate(rows):
        meta = row._meta
        fields = [field for field in meta.concrete_fields if field is not meta.auto_field]
        values = []
        for field in fields:
            value = field.pre_save(row, True)
            if isinstance(value, DatabaseDefault):
                values.append("DEFAULT")
            else:
                values.append("%s")
                params.append(field.get_db_prep_save(value, connection))
        returning = [meta.pk, *(field for field in meta.db_returning_fields if field != meta.pk)]
        returned.append(returning)
        clauses.append(
            f"row{index} AS (INSERT INTO {quote(meta.db_table)} "  # noqa: S608
            f"({', '.join(quote(field.column) for field in fields)}) VALUES ({', '.join(values)}) "
            f"RETURNING {', '.join(quote(field.column) for field in returning)})"
        )
    columns = ", ".join(
        f"(SELECT {quote(field.column)} FROM row{index})"  # noqa: S608
        for index, returning in enumerate(returned)
        for field in returning
    )
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(clauses)} SELECT {columns}", params)
        created = iter(cursor.fetchone())
    for row, returning in zip(rows, returned, strict=True):
        for field in returning:
            setattr(row, field.attname, next(created))
        row._state.adding = False
        row._state.db = connection.alias
        if hasattr(row, "on_inserted"):  # what saving would have done (AuditEvent counts)
            row.on_inserted()


class IndexedDatesQuerySet(models.QuerySet):
    def datetimes(self, field_name: str, kind: str, order: str = "ASC", **kwargs: Any) -> Any:
        """Years and months from the first to the last row, read off the index (MIN/MAX).

        The admin's date hierarchy asks for these; a DISTINCT over every row would scan
        the table. Empty years or months in between are offered too.
        """
        if kind not in ("year", "month"):
            return super().datetimes(field_name, kind, order, **kwargs)
        bounds = self.aggregate(first=models.Min(field_name), last=models.Max(field_name))
        if bounds["first"] is None:
            return []
        first, last = (timezone.localtime(bounds[key]) for key in ("first", "last"))
        step_months = 12 if kind == "year" else 1
        year, month = first.year, first.month if kind == "month" else 1
        moments = []
        while (year, month) <= (last.year, last.month):
            moments.append(
                first.replace(
                    year=year, month=month, day=1, hour=0, minute=0, second=0, microsecond=0
                )
            )
            month += step_months
            year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
        return moments if order == "ASC" else moments[::-1]
