from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from credentials import registry_cache
from credentials.models import LongTermCredential, Region, User

REGION_SESSION_KEY = "region"
# The banner names at most this many credentials (and says how to see the rest).
BANNER_LIMIT = 5


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
    regions = registry_cache.current().regions
    return {
        "regions": regions,
        "current_region": selected_region(request, regions),
        "expiring_credentials": expiring_credentials(request.user),
    }


def expiring_credentials(user: User) -> list[LongTermCredential]:
    """The user's enabled credentials that expire within EXPIRY_BANNER_DAYS, soonest first,
    for the banner. No query unless there are some (User.credentials_clock knows)."""
    now = timezone.now()
    _, soon = user.credentials_clock(now)
    if not soon:
        return []
    found = LongTermCredential.objects.for_user(user).expiring_soon(now)
    return list(found.select_related("registry").order_by("expires_at")[:BANNER_LIMIT])
