"""Regions and registries, as every console page needs them, cached in each process.

Every page shows the region selector and most look up a registry, yet both change only in the
admin, and rarely. Each process keeps one snapshot of them for CATALOG_CACHE_SECONDS (default
30): a change shows at once in the process that saved it (signals), and within that time in
the others (other gunicorn workers, other replicas). A registry missing from the snapshot is
looked up in the database, so one created elsewhere is never a 404.

The snapshot's objects are shared between threads: read them, never change them.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from credentials.models import Region, Registry


@dataclass(frozen=True)
class Catalog:
    regions: tuple[Region, ...]
    registries: dict[uuid.UUID, Registry]  # by public_id, each with its region
    loaded_at: float
    # Changes whenever a region or registry does: part of the key of cached pages.
    version: str

    def registries_in(self, region: Region) -> list[Registry]:
        return [r for r in self.registries.values() if r.region_id == region.pk]


_lock = threading.Lock()
_snapshot: Catalog | None = None


def current() -> Catalog:
    snapshot = _snapshot
    if snapshot is None or _expired(snapshot):
        with _lock:
            snapshot = _snapshot
            if snapshot is None or _expired(snapshot):
                snapshot = _load()
    return snapshot


def registry(public_id: uuid.UUID) -> Registry | None:
    found = current().registries.get(public_id)
    if found is None:
        found = Registry.objects.select_related("region").filter(public_id=public_id).first()
        if found is not None:
            forget()  # created since the snapshot: take a new one next time
    return found


def forget(**kwargs: Any) -> None:
    global _snapshot
    _snapshot = None


def _expired(snapshot: Catalog) -> bool:
    return time.monotonic() - snapshot.loaded_at >= settings.CATALOG_CACHE_SECONDS


def _load() -> Catalog:
    global _snapshot
    regions = tuple(Region.objects.all())
    registries = {
        found.public_id: found
        for found in Registry.objects.select_related("region").order_by("name", "pk")
    }
    fields = [(r.pk, r.name, r.display_name) for r in regions] + [
        (r.pk, r.public_id, r.region_id, r.name, r.address, r.project_name)
        for r in registries.values()
    ]
    version = hashlib.sha256(repr(fields).encode()).hexdigest()[:16]
    _snapshot = Catalog(regions, registries, time.monotonic(), version)
    return _snapshot


for model in (Region, Registry):
    receiver(post_save, sender=model, dispatch_uid=f"catalog-save-{model.__name__}")(forget)
    receiver(post_delete, sender=model, dispatch_uid=f"catalog-delete-{model.__name__}")(forget)
