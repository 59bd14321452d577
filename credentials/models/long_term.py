"""Long-term credentials: created, enabled, disabled, reset and deleted by their owner, each
change audited and raising the owner's credentials_version; their expiry, chosen at creation
within the LONG_TERM_MAX_DAYS policy, and the overlap of a reset password."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext as _

from credentials.models.audit import AuditEvent
from credentials.models.base import (
    EXPIRY_BANNER_DAYS,
    NO_DEADLINE,
    Actor,
    ConsoleError,
    IndexedDatesQuerySet,
    digest_password,
    generate_password,
    generate_username,
)
from credentials.models.expiry import (
    DEFAULT_EXPIRY,
    DefaultExpiry,
    allowed_expiry,
    expired_message,
)
from credentials.models.limits import AdministratorDecision, NarrowedCredential, checked
from credentials.models.registries import Registry
from credentials.models.users import User
from credentials.rules import ACCESS_INHERIT, NAME_MAX_LENGTH, name_problem

if TYPE_CHECKING:
    from credentials.models.organizations import Organization


class FederatedRefused(ConsoleError):
    """The owner is a federated user, who holds no long-term credentials (FEDERATED_MESSAGE)."""


def login_allowed_sql(credential: str, owner: str) -> str:
    """The rule "may this long-term credential log in now", as SQL over the aliases of its
    row and its owner's, taking one parameter (now): enabled, not expired, its owner active
    and not federated. The token service's written-out lookups (the login's and the refresh
    grant's) both use it, so the rule has one home."""
    return (
        f"{credential}.is_enabled AND {owner}.is_active AND NOT {owner}.is_federated"
        f" AND ({credential}.expires_at IS NULL OR {credential}.expires_at > %s)"
    )


class LongTermCredentialQuerySet(IndexedDatesQuerySet["LongTermCredential"]):
    def for_user(self, user: User) -> LongTermCredentialQuerySet:
        return self.filter(owner=user)

    def in_registry(self, registry: Registry) -> LongTermCredentialQuerySet:
        return self.filter(registry=registry)

    def owned(
        self, user: User, registry: Registry, public_id: uuid.UUID | str
    ) -> LongTermCredential | None:
        """`user`'s credential `public_id` in `registry`, or None: anyone else's, another
        registry's, or an id that is not one. Every entry point that acts on one credential
        (the console's pages, the Enterprise API) looks it up here and answers 404 on None."""
        try:
            public_id = uuid.UUID(str(public_id))
        except ValueError:
            return None
        try:
            return self.for_user(user).in_registry(registry).get(public_id=public_id)
        except self.model.DoesNotExist:
            return None

    def refusal_for(self, owner: User) -> str | None:
        """Why `owner` may not create long-term credentials at all, or None: federated users
        hold none. The console asks before offering Create; create_for enforces it."""
        return str(FEDERATED_MESSAGE) if owner.is_federated else None

    def create_for(
        self,
        *,
        owner: User,
        registry: Registry,
        name: str,
        by: Actor,
        expires_at: datetime | DefaultExpiry | None = DEFAULT_EXPIRY,
        access: str = ACCESS_INHERIT,
        organizations: Iterable[Organization] = (),
    ) -> tuple[LongTermCredential, str]:
        """Create a credential and return it with its password, which exists only here.

        `expires_at` None is Never; left out, it is the default validity (Never, or the
        longest LONG_TERM_MAX_DAYS allows). Every channel that creates credentials (console,
        admin, APIs) comes through here, so the policy's cap holds for all of them.

        Refuses federated owners (FederatedRefused), names that break SWR's rule
        (credentials.rules), duplicate names, owners at their limit and expiries the policy
        does not allow with a ConsoleError, whoever calls, and a bad narrowing (`access`
        "inherit" or "pull", `organizations` of this registry; none: all) with
        NarrowingRefused. The owner's row is locked so
        concurrent creates are serialised and both the unique name and the limit hold exactly.
        """
        refusal = self.refusal_for(owner)
        if refusal is not None:
            raise FederatedRefused(refusal)
        problem = name_problem(name)
        if problem is not None:
            raise ConsoleError(problem)
        narrowing = checked(registry, access, organizations)
        now = timezone.now()
        expires_at = allowed_expiry(expires_at, now)
        limit = settings.LONG_TERM_CREDENTIALS_PER_REGISTRY
        password = generate_password()
        try:
            with transaction.atomic():
                User.objects.select_for_update().filter(pk=owner.pk).first()
                existing = self.filter(owner=owner, registry=registry)
                if existing.filter(name=name).exists():
                    raise ConsoleError(duplicate_name_message(name))
                if existing.count() >= limit:
                    raise ConsoleError(
                        gettext(
                            "You already have %(limit)d long-term credentials for this "
                            "registry, the most allowed. Delete one you no longer use first."
                        )
                        % {"limit": limit}
                    )
                credential = self.create(
                    owner=owner,
                    registry=registry,
                    name=name,
                    username=generate_username(registry.region.name),
                    password_digest=digest_password(password),
                    created_at=now,
                    expires_at=expires_at,
                    **narrowing.fields,
                )
                narrowing.store(credential)
                User.objects.credentials_changed(owner.pk)
                AuditEvent.record(
                    AuditEvent.Action.LONG_TERM_CREATED,
                    by,
                    credential=credential,
                    **narrowing.audited,
                )
        except IntegrityError as exc:
            if not Registry.objects.filter(pk=registry.pk).exists():
                # Deleted in the admin since this page's snapshot of registries was taken.
                raise ConsoleError(gettext("This registry no longer exists.")) from exc
            # The lock makes a duplicate unlikely; the unique constraint is the last word.
            raise ConsoleError(duplicate_name_message(name)) from exc
        return credential, password

    def unexpired(self, now: datetime | None = None) -> LongTermCredentialQuerySet:
        now = now or timezone.now()
        return self.filter(models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now))

    def unused_since(self, cutoff: datetime) -> LongTermCredentialQuerySet:
        """Not used since `cutoff`: last used before it, or never used and created before it."""
        return self.filter(
            models.Q(last_used_at__lt=cutoff)
            | models.Q(last_used_at__isnull=True, created_at__lt=cutoff)
        )

    def expiring_soon(self, now: datetime) -> LongTermCredentialQuerySet:
        """Enabled and expiring within EXPIRY_BANNER_DAYS: what the console's banner names."""
        return self.filter(
            is_enabled=True,
            expires_at__gt=now,
            expires_at__lte=now + timedelta(days=EXPIRY_BANNER_DAYS),
        )

    def clock(self, now: datetime) -> tuple[datetime, bool]:
        """For User.credentials_clock: the next moment these credentials change with time
        alone (one expires, enters the banner's week, or its old password stops), and whether
        an enabled one expires within EXPIRY_BANNER_DAYS now."""
        warning = timedelta(days=EXPIRY_BANNER_DAYS)
        rows = self.filter(
            models.Q(expires_at__gt=now) | models.Q(previous_password_until__gt=now)
        ).values_list("expires_at", "previous_password_until", "is_enabled")
        moments, soon = [], False
        for expires_at, previous_until, enabled in rows:
            if expires_at is not None:
                moments += [expires_at - warning, expires_at]
                soon = soon or (enabled and expires_at - warning <= now < expires_at)
            if previous_until is not None:
                moments.append(previous_until)
        return min((moment for moment in moments if moment > now), default=NO_DEADLINE), soon


FEDERATED_MESSAGE = gettext_lazy(
    "Federated users cannot create or use long-term credentials. "
    "Use a temporary credential instead."
)


def duplicate_name_message(name: str) -> str:
    return gettext(
        "You already have a long-term credential named “%(name)s” for this registry."
    ) % {"name": name}


class LongTermCredential(NarrowedCredential, AdministratorDecision, models.Model):
    public_id = models.UUIDField(
        gettext_lazy("public id"), default=uuid.uuid4, unique=True, editable=False
    )
    # Both keys lead a composite index below (credential_tab_order, credential_by_registry).
    owner = models.ForeignKey(
        User,
        on_delete=models.CASCADE,
        related_name="long_term_credentials",
        db_index=False,
        verbose_name=gettext_lazy("owner"),
    )
    registry = models.ForeignKey(
        Registry,
        on_delete=models.PROTECT,
        related_name="long_term_credentials",
        db_index=False,
        verbose_name=gettext_lazy("registry"),
    )
    name = models.CharField(gettext_lazy("name"), max_length=NAME_MAX_LENGTH)
    # Unique through Meta.constraints, not unique=True: on PostgreSQL unique=True also builds a
    # varchar_pattern_ops index for LIKE 'prefix%', which no query here makes (every username
    # lookup is exact) and every insert would maintain.
    username = models.CharField(gettext_lazy("username"), max_length=96)
    password_digest = models.CharField(
        gettext_lazy("password digest"), max_length=64, editable=False
    )
    is_enabled = models.BooleanField(gettext_lazy("enabled"), default=True)
    status_changed_at = models.DateTimeField(
        gettext_lazy("status changed at"), null=True, blank=True, editable=False
    )
    status_changed_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=gettext_lazy("status changed by"),
    )
    created_at = models.DateTimeField(
        gettext_lazy("created at"), default=timezone.now, editable=False
    )
    last_used_at = models.DateTimeField(
        gettext_lazy("last used at"), null=True, blank=True, editable=False
    )
    # Empty: never expires. Chosen at creation; never extended (docs/DECISIONS.md).
    expires_at = models.DateTimeField(
        gettext_lazy("expires at"), null=True, blank=True, editable=False
    )
    # After Reset Password the replaced password's digest, accepted until the moment below.
    # db_default too: rows copied in by name (seed_demo_data's COPY) need not name it.
    previous_password_digest = models.CharField(
        gettext_lazy("previous password digest"),
        max_length=64,
        blank=True,
        default="",
        db_default="",
        editable=False,
    )
    previous_password_until = models.DateTimeField(
        gettext_lazy("previous password until"), null=True, blank=True, editable=False
    )
    password_reset_at = models.DateTimeField(
        gettext_lazy("password reset at"), null=True, blank=True, editable=False
    )
    # Raised by every Reset Password. A registry refresh token records the version it was
    # issued under and is accepted for this one, or the one before while its overlap lasts.
    password_version = models.PositiveIntegerField(
        gettext_lazy("password version"), default=0, db_default=0, editable=False
    )

    objects = LongTermCredentialQuerySet.as_manager()

    class Meta:
        verbose_name = gettext_lazy("long-term credential")
        verbose_name_plural = gettext_lazy("long-term credentials")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["username"], name="long_term_username_unique"),
            models.UniqueConstraint(
                fields=["owner", "registry", "name"], name="credential_name_per_owner_registry"
            ),
        ]
        indexes = [
            models.Index(
                fields=["owner", "registry", "-created_at", "-id"], name="credential_tab_order"
            ),
            models.Index(fields=["-created_at", "-id"], name="credential_newest_first"),
            models.Index(fields=["registry", "-created_at", "-id"], name="credential_by_registry"),
            models.Index(fields=["name"], name="credential_by_name"),
            # The admin's prefix search (LIKE 'term%' in any collation).
            models.Index(
                fields=["name"], opclasses=["varchar_pattern_ops"], name="credential_name_prefix"
            ),
            models.Index(fields=["is_enabled", "last_used_at"], name="credential_by_status_use"),
            # Reminders, the banner and the admin's expiry filter; most credentials never expire.
            models.Index(
                fields=["expires_at"],
                name="credential_by_expiry",
                condition=models.Q(expires_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def audited_fields(self) -> dict[str, Any]:
        """What an audit event about this credential keeps of it (AuditEvent.build)."""
        return {
            "credential_public_id": self.public_id,
            "credential_name": self.name,
            "credential_username": self.username,
        }

    def audited_registry(self) -> Registry:
        """The registry an event about this credential names when the caller names none."""
        return self.registry

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def status_label(self) -> str:
        if self.is_expired:
            return _("Expired")
        return _("Enabled") if self.is_enabled else _("Disabled")

    @property
    def status_class(self) -> str:
        """The CSS class of the status (not translated)."""
        if self.is_expired:
            return "expired"
        return "enabled" if self.is_enabled else "disabled"

    @property
    def previous_password_works(self) -> bool:
        """Whether the password replaced by Reset Password still logs in."""
        until = self.previous_password_until
        return until is not None and until > timezone.now()

    def _set_enabled(self, enabled: bool, by: Actor, action: str, reason: str, admin: bool) -> bool:
        with transaction.atomic():
            # The row locked and its status read again: an administrator's decision committed
            # since this object was read (a racing request) binds, and is not overwritten.
            locked = LongTermCredential.objects.select_for_update()
            status = ["is_enabled", "status_changed_at", "status_changed_by"]
            self.refresh_from_db(
                from_queryset=locked, fields=[*status, "disabled_by_administrator", "status_reason"]
            )
            if not self.decision_changes(enabled, admin):
                return False
            if enabled and self.is_expired:
                raise ConsoleError(expired_message())
            decided = self.decide(enabled, administrator=admin, reason=reason)  # or it refuses
            self.is_enabled = enabled
            self.status_changed_at = timezone.now()
            self.status_changed_by = by.user
            self.save(update_fields=[*status, *decided])
            if not enabled:  # Enable restores the password, not the registry refresh tokens
                self.refresh_tokens.all().delete()
            User.objects.credentials_changed(self.owner_id)
            extra = {"by_administrator": True} if admin else {}
            AuditEvent.record(action, by, credential=self, reason=reason, **extra)
        return True

    def disable(self, *, by: Actor, reason: str = "", administrator: bool = False) -> bool:
        """Disable the credential (the token service refuses it from now on); `administrator`:
        an administrator's decision, which its owner cannot undo (AdministratorDecision).

        Returns False, recording nothing, when it already was (by an administrator, for one).
        """
        action = AuditEvent.Action.LONG_TERM_DISABLED
        return self._set_enabled(False, by, action, reason, administrator)

    def enable(self, *, by: Actor, reason: str = "", administrator: bool = False) -> bool:
        """Enable the credential again. Returns False when it already was; ConsoleError when
        it has expired; AdministratorDecisionBinds when an administrator disabled it and this
        is not an `administrator`'s enable."""
        action = AuditEvent.Action.LONG_TERM_ENABLED
        return self._set_enabled(True, by, action, reason, administrator)

    def reset_password(self, *, by: Actor) -> str:
        """A new password, returned only here. The replaced one keeps working for
        ROTATION_GRACE_HOURS (0: it stops at once); only digests of both are kept.

        A second reset within the overlap ends the first one's old password: two at most.
        The registry refresh tokens of every password no longer accepted are deleted (each
        token is bound to the password version it was issued under), and the event says how
        many. ConsoleError when the credential has expired (a reset does not renew it).
        """
        if self.is_expired:
            raise ConsoleError(expired_message())
        password = generate_password()
        now = timezone.now()
        grace = timedelta(hours=settings.ROTATION_GRACE_HOURS)
        with transaction.atomic():
            # The row locked and read again: two resets at once each replace the other's.
            locked = LongTermCredential.objects.select_for_update().filter(pk=self.pk)
            replaced, version = locked.values_list("password_digest", "password_version").get()
            self.password_version = version + 1
            if grace:
                self.previous_password_digest = replaced
                self.previous_password_until = now + grace
            else:
                self.previous_password_digest, self.previous_password_until = "", None
            self.password_digest = digest_password(password)
            self.password_reset_at = now
            self.save(
                update_fields=[
                    "password_digest",
                    "previous_password_digest",
                    "previous_password_until",
                    "password_reset_at",
                    "password_version",
                ]
            )
            oldest_kept = self.password_version - (1 if grace else 0)
            ended, _ = self.refresh_tokens.filter(password_version__lt=oldest_kept).delete()
            User.objects.credentials_changed(self.owner_id)
            until = self.previous_password_until
            detail: dict[str, Any] = {
                "previous_password_until": until.isoformat() if until else "ended at once"
            }
            if ended:
                detail["refresh_tokens_deleted"] = ended
            AuditEvent.record(
                AuditEvent.Action.LONG_TERM_PASSWORD_RESET, by, credential=self, **detail
            )
        return password

    def delete_by(self, *, by: Actor, reason: str = "") -> None:
        """Delete the credential; its audit events stay, with its name and username."""
        with transaction.atomic():
            AuditEvent.record(
                AuditEvent.Action.LONG_TERM_DELETED, by, credential=self, reason=reason
            )
            self.delete()
            User.objects.credentials_changed(self.owner_id)
