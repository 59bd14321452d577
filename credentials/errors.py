from __future__ import annotations

import sys

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.defaults import server_error as django_server_error

from credentials.middleware import database_unavailable_response, is_database_unavailable


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database outage noticed outside a view (by the session middleware, say)
    is still a 503, not an error page."""
    if is_database_unavailable(sys.exc_info()[1]):
        return database_unavailable_response()
    return django_server_error(request)


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
