"""The answers Django gives when no view does (handler400, handler500, the CSRF failure): a
page for the console, and on a machine API's paths an error in that API's own JSON shape, so a
client never meets an HTML page there (an unacceptable Host header, a body past
DATA_UPLOAD_MAX_MEMORY_SIZE, a form Django cannot decode, a failure in a middleware)."""

from __future__ import annotations

import sys

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.defaults import bad_request as django_bad_request
from django.views.defaults import server_error as django_server_error

from credentials.api.errors import swr_error
from credentials.middleware import (
    API_PATH,
    database_unavailable_response,
    is_database_unavailable,
)
from credentials.registry.tokens import oauth_error, registry_error

MALFORMED = "The request is malformed or too large"
INTERNAL = "Internal error"


def machine_error(request: HttpRequest, status: int, message: str) -> HttpResponse | None:
    """The error in the shape of the machine API the request was for, or None for a page:
    Huawei's under /v2 and /v3; at the token service, RFC 6749's for its POST flow and the
    registry's `errors` otherwise."""
    path = request.path_info
    if API_PATH.match(path):
        return swr_error(status, "4001036" if status == 400 else "5000000", message)
    if path == reverse("registry_token"):
        if request.method == "POST":
            return oauth_error(
                status, "invalid_request" if status == 400 else "server_error", message
            )
        return registry_error(status, "BAD_REQUEST" if status == 400 else "UNKNOWN", message)
    return None


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400 (SuspiciousOperation, BadRequest): Django's page, or the API's JSON."""
    return machine_error(request, 400, MALFORMED) or django_bad_request(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database outage noticed outside a view (by the session middleware, say)
    is still a 503, not an error page; on a machine API's path, its JSON 500."""
    if is_database_unavailable(sys.exc_info()[1]):
        return database_unavailable_response()
    return machine_error(request, 500, INTERNAL) or django_server_error(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a short explanation (a fragment for htmx), nothing changed."""
    message = _(
        "This form has expired or did not come from this console, so nothing was changed. "
        "Reload the page and try again."
    )
    if request.headers.get("HX-Request"):
        return HttpResponse(
            format_html('<p class="form-error" role="alert">{}</p>', message), status=403
        )
    return render(request, "403_csrf.html", {"message": message}, status=403)
