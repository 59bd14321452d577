"""What every console view shares: the request type htmx fills in, the one lookup of a
registry by its URL id (404 when there is none), the region the header remembers, the
announcement an htmx answer makes, and the Access Credentials page's template."""

from __future__ import annotations

import uuid

from django.http import Http404, HttpRequest, HttpResponse
from django_htmx.http import trigger_client_event
from django_htmx.middleware import HtmxDetails

from credentials import registry_cache
from credentials.console.context_processors import REGION_SESSION_KEY
from credentials.models import Registry

# Both tabs of Access Credentials are this one template and its partials.
ACCESS_TEMPLATE = "credentials/access_credentials.html"


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def announce(response: HttpResponse, text: str, level: str = "success") -> HttpResponse:
    """Have the page's live region say `text` once the htmx answer arrives (console.js)."""
    return trigger_client_event(response, "consoleMessage", {"text": str(text), "level": level})


def get_registry(registry_id: uuid.UUID) -> Registry:
    found = registry_cache.registry(registry_id)
    if found is None:
        raise Http404("No such registry.")
    return found


def remember_region(request: HttpRequest, registry: Registry) -> None:
    # Arriving at a registry by link switches the header to its region, as the SWR console does.
    if request.session.get(REGION_SESSION_KEY) != registry.region.name:
        request.session[REGION_SESSION_KEY] = registry.region.name
