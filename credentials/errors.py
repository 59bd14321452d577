from __future__ import annotations

import sys

from django.http import HttpRequest, HttpResponse
from django.views.defaults import server_error as django_server_error

from credentials.middleware import database_unavailable_response, is_database_unavailable


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database outage noticed outside a view (by the session middleware, say)
    is still a 503, not an error page."""
    if is_database_unavailable(sys.exc_info()[1]):
        return database_unavailable_response()
    return django_server_error(request)
