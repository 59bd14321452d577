"""Floors: the least each measured endpoint must do, served only by the benchmark's server.

A target is a ratio to the minimal view, so it can only be met if the work the requirement
itself imposes fits under it. Each floor does exactly that work, through the same code the
console uses, and nothing else:

- a signed-in POST: the session cookie, the CSRF check and the user's row, answered with "ok"
  (what every console action pays before it does anything);
- generate: a signed-in POST that stores a new temporary credential together with its audit
  event, answered with the login command as plain text (no form, no rate limit, no template);
- token: the Basic header, the one lookup by username and the signed JWT, answered as plain
  text (no throttle check, no JSON, no cache headers, no Last Used).

The distance between an endpoint and its floor is what the console adds; the distance between
the floor and the minimal view is what the requirement costs on this stack.
"""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET, require_POST

from credentials import catalog, registry_auth
from credentials.models import Actor, TemporaryCredential


@login_required
@require_POST
def signed_in_post(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


@login_required
@require_POST
def generate(request: HttpRequest, registry_id: uuid.UUID) -> HttpResponse:
    registry = catalog.registry(registry_id)
    if registry is None:
        raise Http404("No such registry.")
    credential, password = TemporaryCredential.objects.issue(
        registry=registry, by=Actor.from_request(request), kind="image"
    )
    command = f"docker login -u {credential.username} -p {password} {registry.address}"
    return HttpResponse(command, content_type="text/plain")


@require_GET
def token(request: HttpRequest) -> HttpResponse:
    credentials = registry_auth._basic_credentials(request)
    principal = registry_auth.verify(*credentials) if credentials else None
    if principal is None:
        return HttpResponse("unauthorized", status=401, content_type="text/plain")
    issued = registry_auth.issue_token(principal.username, request.GET.get("service", ""), [])
    return HttpResponse(issued["token"], content_type="text/plain")
