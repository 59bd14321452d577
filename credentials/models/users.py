"""Console users: sessions that a sign-out anywhere ends, built-in IAM tokens, and the
credentials_version that keys their long-term tab's cached page."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core import signing
from django.db import models
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from credentials.models.sql import instance_by_pk
from credentials.rules import TEMPORARY_VALIDITY


class ConsoleUserManager(UserManager["User"]):
    _IAM_SALT = "swrconsole.builtin-iam-token"

    def by_pk(self, pk: int) -> User | None:
        """The user with this id, through a query compiled once (see SignedInUserLookup in
        credentials/security/auth.py)."""
        return instance_by_pk(self.model, pk)

    def issue_iam_token(self, user: User, project: str) -> tuple[str, datetime]:
        """A token for the built-in IAM API, valid 24 hours, bound to the user's password.

        Stateless (signed, not stored): a password change or deactivation ends it.
        """
        issued = timezone.now()
        payload = {"u": user.pk, "p": project, "h": self._password_binding(user)}
        token = signing.TimestampSigner(salt=self._IAM_SALT).sign_object(payload)
        return token, issued + TEMPORARY_VALIDITY

    def for_iam_token(self, token: str) -> tuple[User, str] | None:
        """The active user and project a built-in IAM token was issued for, or None."""
        try:
            payload = signing.TimestampSigner(salt=self._IAM_SALT).unsign_object(
                token, max_age=TEMPORARY_VALIDITY
            )
            user = self.get(pk=payload["u"], is_active=True)
        except (signing.BadSignature, self.model.DoesNotExist, KeyError, TypeError):
            return None
        if not hmac.compare_digest(self._password_binding(user), payload.get("h", "")):
            return None
        return user, payload["p"]

    def credentials_changed(self, *user_ids: int) -> None:
        """Raise the users' credentials_version (and have their credentials_deadline worked
        out again). Call it in the transaction of every change to their long-term
        credentials."""
        self.filter(pk__in=user_ids).update(
            credentials_version=F("credentials_version") + 1, credentials_deadline=None
        )

    def _password_binding(self, user: User) -> str:
        # The session generation too: signing out everywhere, or a deactivation (which raises
        # it, credentials/signals.py), ends the user's IAM tokens for good, even if the user is
        # reactivated later.
        value = f"{user.session_generation}:{user.password}"
        return salted_hmac(self._IAM_SALT, value, algorithm="sha256").hexdigest()[:16]


class User(AbstractUser):
    is_federated = models.BooleanField(
        _("federated"),
        default=False,
        help_text=_(
            "Federated users sign in through an identity provider and cannot "
            "create or use long-term credentials."
        ),
    )
    # The help texts below are notes for developers: these fields are never shown in a form.
    session_generation = models.PositiveIntegerField(
        _("session generation"),
        default=0,
        editable=False,
        help_text="Signed into every session: raising it ends all of the user's sessions.",
    )
    credentials_version = models.PositiveBigIntegerField(
        _("credentials version"),
        default=0,
        editable=False,
        help_text="Raised with every change to the user's long-term credentials (their "
        "Last Used included): the key under which their tab's rendered page is cached.",
    )
    # What the tab and the expiry banner show also changes with time alone (a credential
    # expires, enters the banner's week, its old password's overlap ends). The next such
    # moment is kept here, so a page is re-rendered then without a query on every request.
    credentials_deadline = models.DateTimeField(
        _("credentials deadline"),
        null=True,
        editable=False,
        help_text="The next moment the user's credentials change with time alone; empty when "
        "it is to be worked out again.",
    )
    credentials_expiring_soon = models.BooleanField(
        _("credentials expiring soon"),
        default=False,
        db_default=False,
        editable=False,
        help_text="Whether an enabled credential of the user expires within the banner's "
        "week; true until credentials_deadline.",
    )
    language = models.CharField(
        _("language"),
        max_length=16,
        blank=True,
        default="",
        db_default="",
        editable=False,
        help_text="The language the user last chose or signed in to the console in, that of "
        "their e-mails; empty: LANGUAGE_CODE.",
    )

    objects = ConsoleUserManager()

    def remember_language(self, language: str) -> None:
        """Keep `language`, one of LANGUAGES, as the language of the user's e-mails."""
        if language != self.language and language in dict(settings.LANGUAGES):
            type(self).objects.filter(pk=self.pk).update(language=language)
            self.language = language

    # Sessions are signed cookies (settings.SESSION_ENGINE), so none is stored to delete. The
    # hash Django keeps in each one covers the password and the session generation: a password
    # change, a sign-out or end_sessions() makes every earlier cookie of this user fail.
    def get_session_auth_hash(self) -> str:
        return self._session_auth_hash(settings.SECRET_KEY)

    def get_session_auth_fallback_hash(self) -> Iterator[str]:
        for secret in settings.SECRET_KEY_FALLBACKS:
            yield self._session_auth_hash(secret)

    def _session_auth_hash(self, secret: str) -> str:
        value = f"{self.session_generation}:{self.password}"
        return salted_hmac(
            "credentials.User.session", value, secret=secret, algorithm="sha256"
        ).hexdigest()

    def credentials_clock(self, now: datetime | None = None) -> tuple[datetime, bool]:
        """(The next moment the user's credentials change with time alone, whether one
        expires within EXPIRY_BANNER_DAYS), worked out again only once that moment passes."""
        now = now or timezone.now()
        deadline = self.credentials_deadline
        if deadline is not None and now < deadline:
            return deadline, self.credentials_expiring_soon
        deadline, soon = self.long_term_credentials.clock(now)
        # Unless a change raised the version meanwhile (its reset must not be overwritten).
        User.objects.filter(pk=self.pk, credentials_version=self.credentials_version).update(
            credentials_deadline=deadline, credentials_expiring_soon=soon
        )
        self.credentials_deadline, self.credentials_expiring_soon = deadline, soon
        return deadline, soon

    def end_sessions(self) -> None:
        """Sign the user out everywhere: no session cookie issued so far verifies any more."""
        User.objects.filter(pk=self.pk).update(session_generation=F("session_generation") + 1)
        self.refresh_from_db(fields=["session_generation"])
