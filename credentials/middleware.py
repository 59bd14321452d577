from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


def is_database_unavailable(exception: BaseException | None) -> bool:
    """True for errors that mean the database cannot be reached (not bad queries)."""
    if isinstance(exception, (OperationalError, InterfaceError)):
        return True
    # psycopg reports a connection dropped in the middle of a query as a DatabaseError.
    return isinstance(exception, DatabaseError) and "connection" in str(exception).lower()


def database_unavailable_response() -> HttpResponse:
    """503 with a Retry-After, for when the database cannot be reached."""
    response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = "5"
    return response


class DatabaseUnavailableMiddleware:
    """Turn a lost database connection into a 503 page instead of a 500 traceback."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_database_unavailable(exception):
            logger.warning("database unavailable: %s", type(exception).__name__)
            return database_unavailable_response()
        return None
