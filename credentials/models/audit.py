"""The audit trail: append-only events about credentials, sign-ins, organizations and their
permissions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db import connections, models
from django.db.models.expressions import DatabaseDefault
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from credentials import metrics
from credentials.models.base import Actor
from credentials.models.registries import Registry
from credentials.models.users import User
from credentials.rules import NAME_MAX_LENGTH

if TYPE_CHECKING:
    from credentials.models.long_term import LongTermCredential
    from credentials.models.temporary import TemporaryCredential


# What an event keeps instead of the username a failed sign-in or login was attempted with,
# when that is no username (AWS CloudTrail writes HIDDEN_DUE_TO_SECURITY_REASONS): it is
# often a password typed into the wrong field, and the trail must not keep it.
HIDDEN_USERNAME = "[hidden: not a username]"


def typed_username(typed: str, *, is_one: bool) -> str:
    """What an event keeps of a username someone typed: the text when it `is_one` (a known
    account's, or in the shape of one), HIDDEN_USERNAME otherwise; nothing stays nothing."""
    return typed if is_one or not typed else HIDDEN_USERNAME


def _reference(model: type[models.Model], verbose_name: str | Promise) -> models.ForeignKey:
    """A key to `model` that outlives its row: no database constraint, never a cascade, and no
    index of its own (the composite indexes below lead with what is looked up)."""
    return models.ForeignKey(
        model,
        verbose_name=verbose_name,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
    )


class AuditEventQuerySet(models.QuerySet):
    def bulk_create(self, objs: Iterable[AuditEvent], *args: Any, **kwargs: Any) -> Any:
        """On PostgreSQL, the rows as arrays (UNNEST: one parameter per column, however many
        rows), which Django uses only when no value is DEFAULT: the chain's trigger dates each
        event anyway, so the time given here is never stored."""
        objs = list(objs)
        if connections[self.db].vendor == "postgresql":
            now = timezone.now()
            for obj in objs:
                if isinstance(obj.created_at, DatabaseDefault):
                    obj.created_at = now
        created = super().bulk_create(objs, *args, **kwargs)
        metrics.audit_events_written(obj.action for obj in objs)
        return created


class AuditEvent(models.Model):
    """One thing that happened to a credential or a sign-in. Append-only.

    References to users, registries and credentials are copied as text so events outlive
    what they describe; the foreign keys carry no database constraint and never cascade.
    """

    class Action(models.TextChoices):
        LONG_TERM_CREATED = "long_term.created", _("Long-term credential created")
        LONG_TERM_DISABLED = "long_term.disabled", _("Long-term credential disabled")
        LONG_TERM_ENABLED = "long_term.enabled", _("Long-term credential enabled")
        LONG_TERM_DELETED = "long_term.deleted", _("Long-term credential deleted")
        LONG_TERM_PASSWORD_RESET = (
            "long_term.password_reset",
            _("Long-term credential password reset"),
        )
        TEMPORARY_ISSUED = "temporary.issued", _("Temporary credential issued")
        TEMPORARY_MINTED = "temporary.minted", _("Temporary credential minted (built-in SWR API)")
        TEMPORARY_DELETED = "temporary.deleted", _("Temporary credential deleted (with its user)")
        SIGN_IN = "console.sign_in", _("Console sign-in")
        SIGN_IN_FAILED = "console.sign_in_failed", _("Console sign-in failed")
        SESSIONS_ENDED = "console.sessions_ended", _("Console sessions ended")
        PASSWORD_CHANGED = "console.password_changed", _("Console password changed")
        REGISTRY_LOGIN_FAILED = "registry.login_failed", _("Registry login failed")
        ACCESS_KEY_CREATED = "access_key.created", _("Access key created")
        ACCESS_KEY_DISABLED = "access_key.disabled", _("Access key disabled")
        ACCESS_KEY_ENABLED = "access_key.enabled", _("Access key enabled")
        ACCESS_KEY_DELETED = "access_key.deleted", _("Access key deleted")
        API_REQUEST_REFUSED = "api.request_refused", _("API request refused")
        ORGANIZATION_CREATED = "organization.created", _("Organization created")
        ORGANIZATION_DELETED = "organization.deleted", _("Organization deleted")
        PERMISSION_GRANTED = "permission.granted", _("Permission granted")
        PERMISSION_CHANGED = "permission.changed", _("Permission changed")
        PERMISSION_REVOKED = "permission.revoked", _("Permission revoked")
        OIDC_SIGN_IN_REFUSED = "oidc.sign_in_refused", _("Identity provider sign-in refused")
        OIDC_GROUPS_CHANGED = "oidc.groups_changed", _("Groups changed by the identity provider")
        OIDC_ROLE_CHANGED = "oidc.role_changed", _("Role changed by the identity provider")
        OIDC_USER_DEACTIVATED = (
            "oidc.user_deactivated",
            _("User deactivated: the identity provider no longer accepts them"),
        )
        # Written once, by the migration that handed the dating to the database, after the
        # events already there: verify_audit_trail checks that time never runs backwards from it.
        DATABASE_CLOCK = "audit.database_clock", _("Audit trail dated by the database from here on")

    class Channel(models.TextChoices):
        CONSOLE = "console", _("Console")
        API = "api", _("API")
        SYSTEM = "system", _("System (scheduled command)")

    id = models.BigAutoField(primary_key=True)
    # The database's clock, never the writer's: on PostgreSQL the chain's trigger sets it
    # whatever the INSERT says (credentials/security/audit_chain.py); saving reads it back.
    created_at = models.DateTimeField(_("created at"), db_default=Now(), editable=False)
    action = models.CharField(_("action"), max_length=32, choices=Action.choices)
    channel = models.CharField(
        _("channel"), max_length=16, choices=Channel.choices, default=Channel.CONSOLE
    )
    # No single-column indexes on the two keys: nothing looks events up by actor id, and
    # audit_by_registry leads with the registry; every index is paid for on each insert.
    actor = _reference(User, _("actor"))
    actor_username = models.CharField(_("actor"), max_length=150, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=512, blank=True)
    registry = _reference(Registry, _("registry"))
    registry_address = models.CharField(_("registry"), max_length=255, blank=True)
    credential_public_id = models.UUIDField(_("credential public id"), null=True, blank=True)
    credential_name = models.CharField(_("credential name"), max_length=NAME_MAX_LENGTH, blank=True)
    credential_username = models.CharField(_("credential username"), max_length=150, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    # The hash chain (credentials/security/audit_chain.py), filled in by the database on insert.
    chain_seq = models.BigIntegerField(
        _("chain seq"), null=True, blank=True, unique=True, editable=False
    )
    prev_hash = models.CharField(
        _("prev hash"), max_length=64, blank=True, default="", editable=False
    )
    hash = models.CharField(_("hash"), max_length=64, blank=True, default="", editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created_at", "-id"]
        # The verifier walks positions 1, 2, …: no event may sit below them, out of its sight.
        constraints = [
            models.CheckConstraint(
                condition=models.Q(chain_seq__gte=1), name="audit_chain_seq_positive"
            )
        ]
        # Every admin filter and exact search has an index that also yields newest-first order.
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="audit_newest_first"),
            models.Index(fields=["action", "-created_at", "-id"], name="audit_by_action"),
            models.Index(fields=["actor_username", "-created_at", "-id"], name="audit_by_actor"),
            models.Index(fields=["registry", "-created_at", "-id"], name="audit_by_registry"),
            models.Index(
                fields=["credential_public_id", "-created_at"], name="audit_by_credential"
            ),
            # The column the admin searches by its beginning leads with varchar_pattern_ops,
            # which serves LIKE 'term%' in any collation, and = as before.
            models.Index(
                fields=["credential_username", "-created_at"],
                opclasses=["varchar_pattern_ops", "timestamptz_ops"],
                name="audit_by_username_prefix",
            ),
            models.Index(fields=["credential_name", "-created_at"], name="audit_by_name"),
            models.Index(fields=["ip_address", "-created_at"], name="audit_by_ip"),
        ]

    def __str__(self) -> str:
        # The admin's heading of the event's page: in the page's language.
        return gettext("%(action)s by %(actor)s") % {
            "action": self.get_action_display(),
            "actor": self.actor_username or gettext("anonymous"),
        }

    def save(self, *args: Any, **kwargs: Any) -> None:
        adding = self._state.adding
        super().save(*args, **kwargs)
        if adding:
            self.on_inserted()

    def on_inserted(self) -> None:
        """Counted (credentials/metrics): saved, or inserted by insert_together."""
        metrics.audit_events_written((self.action,))

    @classmethod
    def record(cls, action: str, by: Actor, **kwargs: Any) -> AuditEvent:
        """Write one event. Never pass a password, digest or token in `detail`."""
        event = cls.build(action, by, **kwargs)
        event.save(force_insert=True)
        return event

    @classmethod
    def build(
        cls,
        action: str,
        by: Actor,
        *,
        credential: LongTermCredential | TemporaryCredential | None = None,
        registry: Registry | None = None,
        username: str = "",
        reason: str = "",
        **detail: Any,
    ) -> AuditEvent:
        """The event, not yet saved (see record())."""
        if reason:
            detail["reason"] = reason
        fields: dict[str, Any] = {}
        if credential is not None:
            # Each credential says what of it an event keeps: this module cannot import theirs
            # (they record events, so they import this one).
            registry = registry or credential.audited_registry()
            fields = credential.audited_fields()
        if username and not fields.get("credential_username"):
            fields["credential_username"] = _storable(username[:150])
        return cls(
            action=action,
            channel=by.channel,
            actor=by.user,
            actor_username=by.user.get_username() if by.user else _storable(by.username[:150]),
            ip_address=by.ip_address,
            user_agent=_storable(by.user_agent),
            registry=registry,
            registry_address=registry.address if registry else "",
            detail=_storable(detail),
            **fields,
        )


def _storable(value: Any) -> Any:
    """Text an attacker chose, with NUL (which PostgreSQL text and jsonb cannot hold) replaced."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_storable(key): _storable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(item) for item in value]
    return value
