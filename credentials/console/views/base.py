"""What every console view shares: the request type htmx fills in, the one lookup of a
registry by its URL id (404 when there is none) and of an organization in it, the region the
header remembers, the announcement an htmx answer makes, and the Access Credentials page's
template."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse
from django_htmx.http import trigger_client_event
from django_htmx.middleware import HtmxDetails

from credentials import registry_cache
from credentials.console.context_processors import REGION_SESSION_KEY
from credentials.console.downloads import CsvLink, csv_response, no_store
from credentials.models import Organization, Registry

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


def get_organization(
    request: HttpRequest, registry: Registry, organization_id: uuid.UUID
) -> Organization:
    """The organization of `registry` the signed-in user sees, with `level` (their
    organization-wide level: Manage for a registry administrator, 0 with grants on some of its
    repositories only); anyone else's, or another registry's, is a 404."""
    found = Organization.objects.lookup(request.user, registry, organization_id)
    if found is None:
        raise Http404("No such organization.")
    return found


def remember_region(request: HttpRequest, registry: Registry) -> None:
    # Arriving at a registry by link switches the header to its region, as the SWR console does.
    if request.session.get(REGION_SESSION_KEY) != registry.region.name:
        request.session[REGION_SESSION_KEY] = registry.region.name


def secret_answer(
    request: HtmxHttpRequest,
    *,
    csv: str,
    filename: str,
    page_url_name: str,
    page: Callable[[CsvLink], HttpResponse],
    to_download: str,
    downloaded: str,
    changed: str,
) -> HttpResponse:
    """The one response a new password or secret leaves in. A form posted without JavaScript
    to the page's own URL (`page_url_name`) gets the page, its message (`to_download`) holding
    the file in a link; anything else gets the file itself, `downloaded` announced and the
    `changed` event triggered so the list refreshes."""
    if not request.htmx and request.resolver_match.url_name == page_url_name:
        return no_store(page(CsvLink(text=to_download, filename=filename, csv=csv)))
    response = csv_response(csv, filename)
    return trigger_client_event(announce(response, downloaded), changed)
