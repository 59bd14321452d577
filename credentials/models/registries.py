"""Regions and registries: what the admin manages and every page lists (see
credentials/registry_cache.py for the per-process snapshot of them)."""

from __future__ import annotations

import ipaddress
import re
import uuid
from typing import Any

from django.core.exceptions import ValidationError
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


# A DNS name as Docker's reference grammar has it: labels of letters, digits and inner hyphens.
_HOSTNAME = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)
_ADDRESS = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[^:\[\]]+)(?::(?P<port>[0-9]{1,5}))?")


def address_is_valid(value: str) -> bool:
    """`host[:port]`: a hostname, an IPv4 literal or an [IPv6] literal, and a port 1–65535.
    Nothing else: no scheme, path, whitespace or control character (the address goes into
    e-mail subjects, login commands and the token service's `service`)."""
    match = _ADDRESS.fullmatch(value)
    if match is None or len(value) > 255:
        return False
    host, port = match["host"], match["port"]
    if port is not None and not 1 <= int(port) <= 65535:
        return False
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return False
        return True
    if host.replace(".", "").isdigit():  # all digits: it must be an IPv4 address
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return False
        return True
    return len(host) <= 253 and _HOSTNAME.fullmatch(host) is not None


def validate_registry_address(value: str) -> None:
    """The address field's validator (the admin's form runs it through full_clean)."""
    if not address_is_valid(value):
        raise ValidationError(
            _(
                "Enter the address as host or host:port (a hostname, an IPv4 address or an "
                "[IPv6] address, and a port from 1 to 65535), for example "
                "swr.example.com or 192.0.2.10:5000. No scheme (https://), path, spaces or "
                "line breaks."
            ),
            code="invalid_address",
        )


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
        validators=[validate_registry_address],
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
