from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.http import HttpRequest

from credentials import catalog
from credentials.models import Region

REGION_SESSION_KEY = "region"


def selected_region(request: HttpRequest, regions: Sequence[Region]) -> Region | None:
    wanted = request.session.get(REGION_SESSION_KEY)
    for region in regions:
        if region.name == wanted:
            return region
    return regions[0] if regions else None


def console(request: HttpRequest) -> dict[str, Any]:
    """The header's region selector, on every signed-in console page."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    if request.path.startswith("/admin/"):
        return {}
    regions = catalog.current().regions
    return {"regions": regions, "current_region": selected_region(request, regions)}
