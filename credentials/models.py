"""Domain model: regions, registries, credentials and the audit trail.

Domain actions live here as model and QuerySet methods; views only glue them to HTTP.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import string
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core import signing
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac

if TYPE_CHECKING:
    from django.http import HttpRequest

NAME_RULE = r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$"
NAME_MAX_LENGTH = 64
_ID_ALPHABET = string.ascii_uppercase + string.digits
TEMPORARY_VALIDITY = timedelta(hours=24)


class ConsoleError(Exception):
    """A domain rule refused an action; the message is meant for the user."""


def generate_username(region: str) -> str:
    """`<region>@<ID>`, ID being 20 random uppercase letters and digits (SWR's shape)."""
    return f"{region}@{''.join(secrets.choice(_ID_ALPHABET) for _ in range(20))}"


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

    @classmethod
    def from_request(cls, request: HttpRequest) -> Actor:
        user = getattr(request, "user", None)
        return cls(
            user=user if user is not None and user.is_authenticated else None,  # type: ignore[arg-type]
            ip_address=request.META.get("REMOTE_ADDR") or None,
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
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
    # Table and column names come from model metadata; every value is a parameter.
    quote = connection.ops.quote_name
    clauses, params = [], []
    for index, row in enumerate(rows):
        meta = row._meta
        fields = [field for field in meta.concrete_fields if field is not meta.auto_field]
        columns = ", ".join(quote(field.column) for field in fields)
        values = ", ".join(["%s"] * len(fields))
        clauses.append(
            f"row{index} AS (INSERT INTO {quote(meta.db_table)} ({columns}) "  # noqa: S608
            f"VALUES ({values}) RETURNING {quote(meta.pk.column)})"
        )
        params += [
            field.get_db_prep_save(field.pre_save(row, True), connection) for field in fields
        ]
    keys = ", ".join(
        f"(SELECT {quote(row._meta.pk.column)} FROM row{index})"  # noqa: S608
        for index, row in enumerate(rows)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(clauses)} SELECT {keys}", params)
        created = cursor.fetchone()
    for row, pk in zip(rows, created, strict=True):
        row.pk = pk
        row._state.adding = False
        row._state.db = connection.alias


# --- Users ----------------------------------------------------------------------------


@functools.cache
def _user_by_pk_sql(model: type[User]) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in model._meta.concrete_fields)
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    return f"SELECT {columns} FROM {table} WHERE {pk} = %s"  # noqa: S608 - names from the model


class ConsoleUserManager(UserManager["User"]):
    _IAM_SALT = "swrconsole.builtin-iam-token"

    def by_pk(self, pk: int) -> User | None:
        """The user with this id, through a query compiled once (see auth.SignedInUserLookup)."""
        columns = [field.column for field in self.model._meta.concrete_fields]
        with connection.cursor() as cursor:
            cursor.execute(_user_by_pk_sql(self.model), [pk])
            row = cursor.fetchone()
        return self.model.from_db(self.db, columns, row) if row else None

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

    def credentials_changed(self, user_id: int) -> None:
        """Raise the user's credentials_version. Call it in the transaction of every change
        to their long-term credentials."""
        self.filter(pk=user_id).update(credentials_version=F("credentials_version") + 1)

    def _password_binding(self, user: User) -> str:
        return salted_hmac(self._IAM_SALT, user.password, algorithm="sha256").hexdigest()[:16]


class User(AbstractUser):
    is_federated = models.BooleanField(
        "federated",
        default=False,
        help_text="Federated users sign in through an identity provider and cannot "
        "create or use long-term credentials.",
    )
    session_generation = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="Signed into every session: raising it ends all of the user's sessions.",
    )
    credentials_version = models.PositiveBigIntegerField(
        default=0,
        editable=False,
        help_text="Raised with every change to the user's long-term credentials (their "
        "Last Used included): the key under which their tab's rendered page is cached.",
    )

    objects = ConsoleUserManager()

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

    def end_sessions(self) -> None:
        """Sign the user out everywhere: no session cookie issued so far verifies any more."""
        User.objects.filter(pk=self.pk).update(session_generation=F("session_generation") + 1)
        self.refresh_from_db(fields=["session_generation"])


# --- Regions and registries -----------------------------------------------------------


class Region(models.Model):
    name = models.SlugField(max_length=64, unique=True, help_text="For example cn-north-4.")
    display_name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.display_name or self.name


class Registry(models.Model):
    """A registry instance (an SWR "repository" in the console's wording)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="registries")
    name = models.CharField(max_length=64)
    address = models.CharField(
        max_length=255,
        unique=True,
        help_text="Host (and port) clients log in to, e.g. swr.cn-north-4.myhuaweicloud.com. "
        "It is also the `service` the registry names in token requests.",
    )
    project_name = models.CharField(
        max_length=64, blank=True, help_text="Upstream SWR project; defaults to the region name."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "registries"
        constraints = [
            models.UniqueConstraint(fields=["region", "name"], name="registry_name_per_region")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.address})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.project_name:
            self.project_name = self.region.name
        super().save(*args, **kwargs)


# --- Long-term credentials ------------------------------------------------------------


class LongTermCredentialQuerySet(models.QuerySet["LongTermCredential"]):
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

    def for_user(self, user: User) -> LongTermCredentialQuerySet:
        return self.filter(owner=user)

    def in_registry(self, registry: Registry) -> LongTermCredentialQuerySet:
        return self.filter(registry=registry)

    def create_for(
        self, *, owner: User, registry: Registry, name: str, by: Actor
    ) -> tuple[LongTermCredential, str]:
        """Create a credential and return it with its password, which exists only here.

        Refuses federated owners, duplicate names and owners at their limit with a
        ConsoleError. The owner's row is locked so concurrent creates are serialised and
        both the name rule and the limit hold exactly.
        """
        if owner.is_federated:
            raise ConsoleError(FEDERATED_MESSAGE)
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
                        f"You already have {limit} long-term credentials for this registry, "
                        "the most allowed. Delete one you no longer use first."
                    )
                credential = self.create(
                    owner=owner,
                    registry=registry,
                    name=name,
                    username=generate_username(registry.region.name),
                    password_digest=digest_password(password),
                )
                User.objects.credentials_changed(owner.pk)
                AuditEvent.record(AuditEvent.Action.LONG_TERM_CREATED, by, credential=credential)
        except IntegrityError as exc:
            if not Registry.objects.filter(pk=registry.pk).exists():
                # Deleted in the admin since this page's snapshot of registries was taken.
                raise ConsoleError("This registry no longer exists.") from exc
            # The lock makes a duplicate unlikely; the unique constraint is the last word.
            raise ConsoleError(duplicate_name_message(name)) from exc
        return credential, password


FEDERATED_MESSAGE = (
    "Federated users cannot create or use long-term credentials. "
    "Use a temporary credential instead."
)


def duplicate_name_message(name: str) -> str:
    return f"You already have a long-term credential named “{name}” for this registry."


class LongTermCredential(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Both keys lead a composite index below (credential_tab_order, credential_by_registry).
    owner = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="long_term_credentials", db_index=False
    )
    registry = models.ForeignKey(
        Registry, on_delete=models.PROTECT, related_name="long_term_credentials", db_index=False
    )
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    # Unique through Meta.constraints, not unique=True: on PostgreSQL unique=True also builds a
    # varchar_pattern_ops index for LIKE 'prefix%', which no query here makes (every username
    # lookup is exact) and every insert would maintain.
    username = models.CharField(max_length=96)
    password_digest = models.CharField(max_length=64, editable=False)
    is_enabled = models.BooleanField("enabled", default=True)
    status_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    status_changed_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = LongTermCredentialQuerySet.as_manager()

    class Meta:
        verbose_name = "long-term credential"
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
            models.Index(fields=["is_enabled", "last_used_at"], name="credential_by_status_use"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def status_label(self) -> str:
        return "Enabled" if self.is_enabled else "Disabled"

    def _set_enabled(self, enabled: bool, by: Actor, action: str, reason: str) -> bool:
        if self.is_enabled == enabled:
            return False
        with transaction.atomic():
            self.is_enabled = enabled
            self.status_changed_at = timezone.now()
            self.status_changed_by = by.user
            self.save(update_fields=["is_enabled", "status_changed_at", "status_changed_by"])
            User.objects.credentials_changed(self.owner_id)
            AuditEvent.record(action, by, credential=self, reason=reason)
        return True

    def disable(self, *, by: Actor, reason: str = "") -> bool:
        """Disable the credential (the token service refuses it from now on).

        Returns False, recording nothing, when it was already disabled.
        """
        return self._set_enabled(False, by, AuditEvent.Action.LONG_TERM_DISABLED, reason)

    def enable(self, *, by: Actor, reason: str = "") -> bool:
        """Enable the credential again. Returns False when it already was."""
        return self._set_enabled(True, by, AuditEvent.Action.LONG_TERM_ENABLED, reason)

    def delete_by(self, *, by: Actor, reason: str = "") -> None:
        """Delete the credential; its audit events stay, with its name and username."""
        with transaction.atomic():
            AuditEvent.record(
                AuditEvent.Action.LONG_TERM_DELETED, by, credential=self, reason=reason
            )
            self.delete()
            User.objects.credentials_changed(self.owner_id)


# --- Temporary credentials (minted by the built-in SWR API) ---------------------------


class TemporaryCredentialQuerySet(models.QuerySet["TemporaryCredential"]):
    def unexpired(self, now: datetime | None = None) -> TemporaryCredentialQuerySet:
        return self.filter(expires_at__gt=now or timezone.now())

    def mint(
        self, *, user: User, project_name: str, region: str
    ) -> tuple[TemporaryCredential, str]:
        """A new 24-hour credential for `user`, with its password (returned only here)."""
        credential, password = self.build(user, project_name, region)
        credential.save(force_insert=True)
        return credential, password

    def issue(self, *, registry: Registry, by: Actor, kind: str) -> tuple[TemporaryCredential, str]:
        """Built-in mode's Generate: a new 24-hour credential for the signed-in `by.user`,
        stored together with its "issued" audit event (one statement on PostgreSQL)."""
        credential, password = self.build(by.user, registry.project_name, registry.region.name)
        event = AuditEvent.build(
            AuditEvent.Action.TEMPORARY_ISSUED,
            by,
            credential=credential,
            registry=registry,
            kind=kind,
            upstream="built-in",
            registry_host=registry.address,
            expires_at=credential.expires_at.isoformat(),
        )
        insert_together(credential, event)
        return credential, password

    def build(
        self, user: User | None, project_name: str, region: str
    ) -> tuple[TemporaryCredential, str]:
        """A new credential, not yet saved, and its password."""
        password = generate_password()
        credential = self.model(
            user=user,
            project_name=project_name,
            username=generate_username(region),
            password_digest=digest_password(password),
            expires_at=timezone.now() + TEMPORARY_VALIDITY,
        )
        return credential, password


class TemporaryCredential(models.Model):
    """A temporary login issued by the built-in SWR API: valid 24 hours, not revocable.

    It is valid for every registry of its upstream project, as SWR's are for a region.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="temporary_credentials")
    project_name = models.CharField(max_length=64)
    username = models.CharField(max_length=96)  # unique: see LongTermCredential.username
    password_digest = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(db_index=True)

    objects = TemporaryCredentialQuerySet.as_manager()

    class Meta:
        verbose_name = "temporary credential (built-in)"
        verbose_name_plural = "temporary credentials (built-in)"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["username"], name="temporary_username_unique"),
        ]

    def __str__(self) -> str:
        return self.username


# --- The audit trail ------------------------------------------------------------------


class AuditEvent(models.Model):
    """One thing that happened to a credential or a sign-in. Append-only.

    References to users, registries and credentials are copied as text so events outlive
    what they describe; the foreign keys carry no database constraint and never cascade.
    """

    class Action(models.TextChoices):
        LONG_TERM_CREATED = "long_term.created", "Long-term credential created"
        LONG_TERM_DISABLED = "long_term.disabled", "Long-term credential disabled"
        LONG_TERM_ENABLED = "long_term.enabled", "Long-term credential enabled"
        LONG_TERM_DELETED = "long_term.deleted", "Long-term credential deleted"
        TEMPORARY_ISSUED = "temporary.issued", "Temporary credential issued"
        TEMPORARY_MINTED = "temporary.minted", "Temporary credential minted (built-in SWR API)"
        SIGN_IN = "console.sign_in", "Console sign-in"
        SIGN_IN_FAILED = "console.sign_in_failed", "Console sign-in failed"
        SESSIONS_ENDED = "console.sessions_ended", "Console sessions ended"
        REGISTRY_LOGIN_FAILED = "registry.login_failed", "Registry login failed"

    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    action = models.CharField(max_length=32, choices=Action.choices)
    # No single-column indexes on the two keys: nothing looks events up by actor id, and
    # audit_by_registry leads with the registry; every index is paid for on each insert.
    actor = models.ForeignKey(
        User,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_username = models.CharField("actor", max_length=150, blank=True)
    ip_address = models.GenericIPAddressField("IP address", null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    registry = models.ForeignKey(
        Registry,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
    )
    registry_address = models.CharField("registry", max_length=255, blank=True)
    credential_public_id = models.UUIDField(null=True, blank=True)
    credential_name = models.CharField(max_length=NAME_MAX_LENGTH, blank=True)
    credential_username = models.CharField(max_length=150, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # Every admin filter and exact search has an index that also yields newest-first order.
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="audit_newest_first"),
            models.Index(fields=["action", "-created_at", "-id"], name="audit_by_action"),
            models.Index(fields=["actor_username", "-created_at", "-id"], name="audit_by_actor"),
            models.Index(fields=["registry", "-created_at", "-id"], name="audit_by_registry"),
            models.Index(
                fields=["credential_public_id", "-created_at"], name="audit_by_credential"
            ),
            models.Index(fields=["credential_username", "-created_at"], name="audit_by_username"),
            models.Index(fields=["credential_name", "-created_at"], name="audit_by_name"),
            models.Index(fields=["ip_address", "-created_at"], name="audit_by_ip"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.actor_username or 'anonymous'}"

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
        if isinstance(credential, LongTermCredential):
            registry = registry or credential.registry
            fields = {
                "credential_public_id": credential.public_id,
                "credential_name": credential.name,
                "credential_username": credential.username,
            }
        elif isinstance(credential, TemporaryCredential):
            fields = {
                "credential_public_id": credential.public_id,
                "credential_username": credential.username,
            }
        if username and not fields.get("credential_username"):
            fields["credential_username"] = username[:150]
        return cls(
            action=action,
            actor=by.user,
            actor_username=by.user.get_username() if by.user else by.username[:150],
            ip_address=by.ip_address,
            user_agent=by.user_agent,
            registry=registry,
            registry_address=registry.address if registry else "",
            detail=detail,
            **fields,
        )
