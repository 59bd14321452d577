"""Regions and registries: what the admin manages and every page lists (see credentials/catalog.py
for the per-process snapshot of them)."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models
from django.utils import timezone


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
