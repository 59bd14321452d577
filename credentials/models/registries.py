"""Regions and registries: what the admin manages and every page lists (see
credentials/registry_cache.py for the per-process snapshot of them)."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credentials.regions import region_label


class Region(models.Model):
    name = models.SlugField(
        _("name"), max_length=64, unique=True, help_text=_("For example cn-north-4.")
    )
    display_name = models.CharField(_("display name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["name"]

    def __str__(self) -> str:
        return region_label(self.name, self.display_name)


_PROJECT_NAMESPACE = uuid.UUID("6f6d2a52-53d1-4b8c-9a39-2f1f8c0e5a11")


def project_id_for(project_name: str) -> str:
    """The 32-hex project ID of an SWR project (Huawei's shape), derived from its name: every
    registry of a project shows the same ID, and there is no column to keep in step."""
    return uuid.uuid5(_PROJECT_NAMESPACE, project_name).hex


class Registry(models.Model):
    """A registry instance (an SWR "repository" in the console's wording)."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="registries", verbose_name=_("region")
    )
    name = models.CharField(_("name"), max_length=64)
    address = models.CharField(
        _("address"),
        max_length=255,
        unique=True,
        help_text=_(
            "Host (and port) clients log in to, e.g. swr.cn-north-4.myhuaweicloud.com. "
            "It is also the `service` the registry names in token requests."
        ),
    )
    project_name = models.CharField(
        _("project name"),
        max_length=64,
        blank=True,
        help_text=_("Upstream SWR project; defaults to the region name."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("registry")
        verbose_name_plural = _("registries")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["region", "name"], name="registry_name_per_region")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.address})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.project_name:
            self.project_name = self.region.name
        super().save(*args, **kwargs)

    @property
    def project_id(self) -> str:
        """Huawei's "Project ID" of the registry's project (see project_id_for)."""
        return project_id_for(self.project_name)
