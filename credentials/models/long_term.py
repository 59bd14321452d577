"""Long-term credentials: created, enabled, disabled and deleted by their owner, each change
audited and raising the owner's credentials_version."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from credentials.models.audit import AuditEvent
from credentials.models.base import (
    NAME_MAX_LENGTH,
    Actor,
    ConsoleError,
    digest_password,
    generate_password,
    generate_username,
)
from credentials.models.catalog import Registry
from credentials.models.users import User


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
