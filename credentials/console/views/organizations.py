"""Organizations, in a registry's left pane: the list (the user's organizations with their
level; every one for a registry administrator), Create Organization and Delete. Glue to
Organization's domain actions, which check who may do what and audit it."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from credentials.console.credential_list import Search
from credentials.console.forms import CreateOrganizationForm
from credentials.console.views.base import (
    HtmxHttpRequest,
    announce,
    get_organization,
    get_registry,
    remember_region,
)
from credentials.models import (
    Actor,
    ConsoleError,
    NotPermitted,
    Organization,
    OrganizationExists,
    Registry,
)
from credentials.models.permissions import not_permitted_message
from credentials.rules import MANAGE

TEMPLATE = "credentials/organizations.html"
ORGANIZATIONS_CHANGED = "organizationsChanged"
PAGE_SIZE = 20


def _context(request: HtmxHttpRequest, registry: Registry, **extra: Any) -> dict[str, Any]:
    search = Search.from_params(request.GET)
    found = Organization.objects.for_user(request.user, registry).select_related("created_by")
    if search.q:
        found = found.filter(name__icontains=search.q)
    page = Paginator(found.order_by("name"), PAGE_SIZE).get_page(search.page)
    return {
        "registry": registry,
        "section": "organizations",
        "page": page,
        "search": search,
        **search.page_links(page),
        "manage": MANAGE,
        **extra,
    }


def _page(
    request: HtmxHttpRequest, registry: Registry, *, status: int = 200, **extra: Any
) -> HttpResponse:
    remember_region(request, registry)
    return render(request, TEMPLATE, _context(request, registry, **extra), status=status)


def _dialog(
    request: HtmxHttpRequest, registry: Registry, dialog: str, *, status: int = 200, **extra: Any
) -> HttpResponse:
    """A dialog of the list: to htmx its fragment, else the list with it open."""
    if request.htmx:
        context = {"registry": registry, "manage": MANAGE} | extra
        return render(request, f"{TEMPLATE}#{dialog}-dialog", context, status=status)
    return _page(request, registry, status=status, dialog=dialog, **extra)


def _done(request: HtmxHttpRequest, registry: Registry, message: str) -> HttpResponse:
    """A change made: htmx closes the dialog, says so and refreshes the list; without
    JavaScript the list, with the message."""
    if request.htmx:
        return trigger_client_event(announce(HttpResponse(""), message), ORGANIZATIONS_CHANGED)
    messages.success(request, message)
    return redirect("organizations", registry_id=registry.public_id)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def organizations(request: HtmxHttpRequest, registry_id: uuid.UUID) -> HttpResponse:
    registry = get_registry(registry_id)
    if request.htmx and not request.htmx.boosted:
        context = _context(request, registry)
        return render(request, f"{TEMPLATE}#organization-table", context)
    return _page(request, registry)


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def create_organization(request: HtmxHttpRequest, registry_id: uuid.UUID) -> HttpResponse:
    registry = get_registry(registry_id)
    if request.method == "GET":
        return _dialog(request, registry, "create", form=CreateOrganizationForm())
    form = CreateOrganizationForm(request.POST)
    if not form.is_valid():
        return _dialog(request, registry, "create", status=422, form=form)
    name = form.cleaned_data["name"]
    try:
        Organization.objects.create_for(
            registry=registry, name=name, by=Actor.from_request(request)
        )
    except ConsoleError as exc:  # OrganizationExists, NameRefused, the registry deleted
        form.add_error("name", str(exc))
        status = 409 if isinstance(exc, OrganizationExists) else 422
        return _dialog(request, registry, "create", status=status, form=form)
    message = _("Organization “%(name)s” is created. You hold the Manage permission on it.")
    return _done(request, registry, message % {"name": name})


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def delete_organization(
    request: HtmxHttpRequest, registry_id: uuid.UUID, organization_id: uuid.UUID
) -> HttpResponse:
    """GET asks first (its dialog); POST deletes. Only a Manage holder is offered it; anyone
    else is told why, and the domain refuses them whatever they send."""
    registry = get_registry(registry_id)
    organization = get_organization(request, registry, organization_id)
    # Deleting from the organization's own page: the page is gone after, so the list answers.
    origin = request.GET.get("from") or request.POST.get("from")
    context = {
        "organization": organization,
        "grants": organization.permissions.count(),
        "origin": "organization" if origin == "organization" else "list",
    }
    if request.method == "GET":
        refusal = "" if organization.level >= MANAGE else not_permitted_message(organization.name)
        status = 403 if refusal else 200
        return _dialog(request, registry, "delete", status=status, refusal=refusal, **context)
    try:
        organization.delete_by(by=Actor.from_request(request))
    except ConsoleError as exc:  # NotPermitted, or deleted meanwhile
        status = 403 if isinstance(exc, NotPermitted) else 409
        return _dialog(request, registry, "delete", status=status, refusal=str(exc), **context)
    message = _("Organization “%(name)s” is deleted.") % {"name": organization.name}
    if context["origin"] == "organization" and request.htmx:
        messages.success(request, message)
        return HttpResponseClientRedirect(
            reverse("organizations", kwargs={"registry_id": registry.public_id})
        )
    return _done(request, registry, message)
