"""My Permissions, in a registry's left pane: where the signed-in user may pull, push and
delete, and what each of their long-term credentials may do (console/permission_summary.py)."""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from credentials.console.permission_summary import summary
from credentials.console.views.base import HtmxHttpRequest, get_registry, remember_region


@login_required
@require_GET
def my_permissions(request: HtmxHttpRequest, registry_id: uuid.UUID) -> HttpResponse:
    registry = get_registry(registry_id)
    remember_region(request, registry)
    context = {
        "registry": registry,
        "section": "my-permissions",
        "summary": summary(request.user, registry),
    }
    return render(request, "credentials/my_permissions.html", context)
