"""Temporary credentials minted by the built-in SWR API: valid 24 hours, not revocable."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credentials.models.audit import AuditEvent
from credentials.models.base import (
    Actor,
    digest_password,
    generate_password,
    generate_username,
    insert_together,
)
from credentials.models.registries import Registry
from credentials.models.users import User
from credentials.rules import TEMPORARY_VALIDITY


class TemporaryCredentialQuerySet(models.QuerySet["TemporaryCredential"]):
    def unexpired(self, now: datetime | None = None) -> TemporaryCredentialQuerySet:
        return self.filter(expires_at__gt=now or timezone.now())

    def issue(self, *, registry: Registry, by: Actor, kind: str) -> tuple[TemporaryCredential, str]:
        """A new 24-hour credential for `by.user` and its password (returned only here), stored
        together with its "issued" audit event: one statement on PostgreSQL, so there is never
        a credential without its event.

        The only way a temporary credential is minted: the console's Generate in built-in
        mode and the built-in SWR API (credentials/api/swr.py) both come here.
        """
        password = generate_password()
        credential = self.model(
            user=by.user,
            project_name=registry.project_name,
            username=generate_username(registry.region.name),
            password_digest=digest_password(password),
            expires_at=timezone.now() + TEMPORARY_VALIDITY,
        )
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


class TemporaryCredential(models.Model):
    """A temporary login issued by the built-in SWR API: valid 24 hours, not revocable.

    It is valid for every registry of its upstream project, as SWR's are for a region.
    """

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        User,
        on_delete=models.CASCADE,
        related_name="temporary_credentials",
        verbose_name=_("user"),
    )
    project_name = models.CharField(_("project name"), max_length=64)
    # Unique: see LongTermCredential.username.
    username = models.CharField(_("username"), max_length=96)
    password_digest = models.CharField(_("password digest"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    expires_at = models.DateTimeField(_("expires at"), db_index=True)

    objects = TemporaryCredentialQuerySet.as_manager()

    class Meta:
        verbose_name = _("temporary credential (built-in)")
        verbose_name_plural = _("temporary credentials (built-in)")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["username"], name="temporary_username_unique"),
        ]

    def __str__(self) -> str:
        return self.username

    def audited_fields(self) -> dict[str, Any]:
        """What an audit event about this credential keeps of it (AuditEvent.build)."""
        return {"credential_public_id": self.public_id, "credential_username": self.username}

    def audited_registry(self) -> Registry | None:
        """None: a temporary login serves every registry of its project."""
        return None
