"""Refresh tokens of the registry token service: offline access for docker and containerd.

A client that asks for offline access (`offline_token=true` on GET, `access_type=offline` on
POST) gets a refresh token beside its access token, and later trades it for access tokens
(`grant_type=refresh_token`) without sending the password again; the docker CLI keeps it in
config.json instead of the password. Each is bound to the credential it was issued for and to
the registry (service) that asked: it is refused the first time it is used after that
credential is disabled, deleted or expired, or its owner deactivated or federated, and it is
deleted then. A long-term credential's token is bound to the password version it was issued
under too: accepted for the current password, or for the one a reset replaced while that one's
overlap lasts; a reset deletes the tokens of every older password (LongTermCredential.
reset_password). Only a keyed digest is stored, as for passwords.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from credentials.models.base import digest_password
from credentials.models.long_term import LongTermCredential, login_allowed_sql
from credentials.models.registries import Registry
from credentials.models.sql import fetch_one
from credentials.models.temporary import TemporaryCredential
from credentials.models.users import User
from credentials.timestamps import shown

# What the token service records as the reason of a refused refresh token (audited).
UNKNOWN = "unknown, expired or revoked refresh token"
CREDENTIAL_REFUSED = "refresh token of a disabled, deleted or expired credential"
REPLACED_BY_RESET = "refresh token of a password replaced by Reset Password"
OTHER_SERVICE = "refresh token of another registry"


@dataclass(frozen=True)
class RefreshCheck:
    """What a presented refresh token stands for, or why it is refused (`refusal`)."""

    refusal: str = ""
    username: str = ""
    long_term_id: int | None = None
    # The credential's owner (a temporary credential's user): whose permissions it carries.
    owner_id: int | None = None
    last_used_recently: bool = False
    # The registry the token is bound to, where the credential may act: a long-term
    # credential's own; a temporary one's while that registry is of its project (else None).
    registry_id: int | None = None


class RefreshTokenQuerySet(models.QuerySet["RefreshToken"]):
    def issue(
        self,
        *,
        service: str,
        long_term_id: int | None = None,
        password_version: int | None = None,
        temporary_id: int | None = None,
        temporary_expires_at: datetime | None = None,
    ) -> str:
        """A new refresh token for one credential at one registry; returned only here. A
        long-term credential's names the password version it was issued under (the one the
        client logged in with: the current one, or the one a reset replaced)."""
        token = secrets.token_urlsafe(32)
        now = timezone.now()
        expires_at = now + timedelta(seconds=settings.REGISTRY_REFRESH_TOKEN_TTL)
        if temporary_expires_at is not None:  # never outlives its credential
            expires_at = min(expires_at, temporary_expires_at)
        self.create(
            digest=digest_password(token),
            long_term_id=long_term_id,
            password_version=password_version,
            temporary_id=temporary_id,
            service=service,
            created_at=now,
            expires_at=expires_at,
        )
        return token

    def verify(self, token: str, service: str, *, used_since: datetime) -> RefreshCheck:
        """Whether `token` may get an access token for `service` now, and for whom
        (`last_used_recently`: the credential's Last Used is after `used_since`).

        One query, written out as the GET flow's is: the token with its credential and the
        credential's owner. A token whose credential may no longer log in, or whose password
        is no longer accepted, is deleted as it is refused.
        """
        now = timezone.now()
        found = fetch_one(_LOOKUP, [now, now, now, used_since, now, digest_password(token)])
        if found is None:
            return RefreshCheck(refusal=UNKNOWN)
        (pk, unexpired, bound_service, long_term_id, lt_username, owner_id, lt_usable,
         password_accepted, used_recently, temp_username, temp_usable,
         registry_id) = found  # fmt: skip
        long_term = long_term_id is not None
        usable = lt_usable if long_term else temp_usable
        username = lt_username if long_term else temp_username
        refusal = (
            CREDENTIAL_REFUSED if not usable
            else REPLACED_BY_RESET if long_term and not password_accepted
            else UNKNOWN if not unexpired
            else ""
        )  # fmt: skip
        if refusal:
            self.filter(pk=pk).delete()
            return RefreshCheck(refusal=refusal, username=username)
        if bound_service != service:
            return RefreshCheck(refusal=OTHER_SERVICE, username=username)
        return RefreshCheck(
            username=username,
            long_term_id=long_term_id,
            owner_id=owner_id,
            last_used_recently=bool(used_recently),  # NULL when never used
            registry_id=registry_id,
        )

    def expired(self, before: datetime) -> RefreshTokenQuerySet:
        return self.filter(expires_at__lt=before)


def _bound_to(
    credential_model: type[models.Model], verbose_name: str | Promise
) -> models.ForeignKey:
    """The credential of one kind a token is bound to; deleting it deletes the token. A token
    has exactly one (Meta.constraints): the other kind's is empty."""
    return models.ForeignKey(
        credential_model,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="refresh_tokens",
        verbose_name=verbose_name,
    )


class RefreshToken(models.Model):
    """A registry refresh token: its digest, what it is bound to, and until when."""

    id = models.BigAutoField(primary_key=True)
    digest = models.CharField(_("digest"), max_length=64, editable=False)
    long_term = _bound_to(LongTermCredential, _("long term"))
    temporary = _bound_to(TemporaryCredential, _("temporary"))
    service = models.CharField(_("service"), max_length=255)
    # A long-term credential's password version when the token was issued (empty for a
    # temporary credential's, which has one password).
    password_version = models.PositiveIntegerField(
        _("password version"), null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    expires_at = models.DateTimeField(_("expires at"), db_index=True)

    objects = RefreshTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("registry refresh token")
        verbose_name_plural = _("registry refresh tokens")
        constraints = [
            # Unique through a constraint: no LIKE-pattern index (see LongTermCredential).
            models.UniqueConstraint(fields=["digest"], name="refresh_token_digest_unique"),
            models.CheckConstraint(
                condition=models.Q(long_term__isnull=False, temporary__isnull=True)
                | models.Q(long_term__isnull=True, temporary__isnull=False),
                name="refresh_token_of_one_credential",
            ),
        ]

    def __str__(self) -> str:
        return gettext("refresh token for %(service)s, until %(until)s") % {
            "service": self.service,
            "until": shown(self.expires_at),
        }


# The refresh grant's one query (see RefreshTokenQuerySet.verify): table names from model
# metadata, every value a parameter. The database compares the times against ours. A
# long-term token's password is accepted when it is the current one, or the one before it
# while that one's overlap lasts. The owner and registry say whose permissions the token
# service grants, and where (a temporary credential's registry: the bound one while it is of
# the credential's project).
_LOOKUP = f"""
    SELECT t.id, t.expires_at > %s, t.service,
           c.id, c.username, COALESCE(c.owner_id, tc.user_id),
           {login_allowed_sql("c", "o")},
           t.password_version = c.password_version
               OR (t.password_version = c.password_version - 1
                   AND c.previous_password_until > %s),
           c.last_used_at > %s,
           tc.username, tc.expires_at > %s AND tu.is_active,
           COALESCE(c.registry_id, r.id)
    FROM {RefreshToken._meta.db_table} t
    LEFT JOIN {LongTermCredential._meta.db_table} c ON c.id = t.long_term_id
    LEFT JOIN {User._meta.db_table} o ON o.id = c.owner_id
    LEFT JOIN {TemporaryCredential._meta.db_table} tc ON tc.id = t.temporary_id
    LEFT JOIN {User._meta.db_table} tu ON tu.id = tc.user_id
    LEFT JOIN {Registry._meta.db_table} r
         ON r.address = t.service AND r.project_name = tc.project_name
    WHERE t.digest = %s
"""  # noqa: S608
