"""The console's way in: the home page (a region's registries), a registry's overview, and
the Access Credentials entry that opens its first tab."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from credentials import registry_cache
from credentials.console.context_processors import REGION_SESSION_KEY, selected_region
from credentials.console.views.base import HtmxHttpRequest, get_registry, remember_region
from credentials.registry.setup import TokenAuth


@login_required
@require_GET
def home(request: HtmxHttpRequest) -> HttpResponse:
    regions = registry_cache.current().regions
    wanted = request.GET.get("region")
    if wanted is not None:
        if not any(region.name == wanted for region in regions):
            messages.error(request, _("There is no region named “%(name)s”.") % {"name": wanted})
        else:
            request.session[REGION_SESSION_KEY] = wanted
        return redirect("home")
    region = selected_region(request, regions)
    registries = registry_cache.current().registries_in(region) if region else []
    return render(
        request, "credentials/home.html", {"registries": registries, "current_region": region}
    )


@login_required
@require_GET
def registry_overview(request: HtmxHttpRequest, registry_id: uuid.UUID) -> HttpResponse:
    registry = get_registry(registry_id)
    remember_region(request, registry)
    context: dict[str, Any] = {"registry": registry, "section": "overview"}
    if request.user.is_staff or request.user.is_superuser:
        # How to point the registry at this console, at the address the administrator uses.
        context["token_auth"] = TokenAuth.for_registry(registry, request.build_absolute_uri("/"))
    return render(request, "credentials/registry_overview.html", context)


@login_required
@require_GET
def access_credentials(request: HtmxHttpRequest, registry_id: uuid.UUID) -> HttpResponse:
    return redirect("long_term_tab", registry_id=registry_id)
