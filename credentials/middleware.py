from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.contrib.auth.middleware import RemoteUserMiddleware
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import resolve_url
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django_htmx.http import HttpResponseClientRedirect

from swrconsole import draining

logger = logging.getLogger(__name__)


def is_database_unavailable(exception: BaseException | None) -> bool:
    """True for errors that mean the database cannot be reached (not bad queries): the
    driver's OperationalError or InterfaceError as Django raises them. psycopg reports a
    refused, ended or dropped connection as one of these; SQLite a file it cannot open. What
    an error's text says plays no part: an IntegrityError or a ValueError that mentions a
    "connection" is a bug, answered as one (500)."""
    return isinstance(exception, (OperationalError, InterfaceError))


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


def health_answer() -> JsonResponse:
    """/healthz: 200 while the database answers; 503 when it does not, and while this replica
    drains after SIGTERM (swrconsole.draining), so that its load balancer stops sending to it
    before it stops accepting (deploy/haproxy.cfg)."""
    if draining.draining():
        response = JsonResponse({"status": "draining"}, status=503)
        # Planned (the worker logged the SIGTERM once): not an error line a second per check.
        response._has_been_logged = True  # type: ignore[attr-defined]  # django.utils.log
    else:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except DatabaseError:
            response = JsonResponse({"status": "unavailable", "database": "down"}, status=503)
        else:
            response = JsonResponse({"status": "ok", "database": "up"})
    add_never_cache_headers(response)
    return response


class HealthCheckMiddleware:
    """GET and HEAD /healthz, answered before anything reads the Host header: load balancers
    and probes address a replica by its own address (10.0.0.5:8000, 127.0.0.1:8000), which
    ALLOWED_HOSTS does not name. Other methods reach the view, which refuses them (405)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.path = reverse("healthz")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == self.path and request.method in ("GET", "HEAD"):
            return health_answer()
        return self.get_response(request)


def from_trusted_proxy(request: HttpRequest) -> bool:
    """Whether the TCP peer is one of TRUSTED_PROXIES (their headers may be believed)."""
    peer = request.META.get("SWR_PEER_ADDR") or request.META.get("REMOTE_ADDR", "")
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in network for network in settings.TRUSTED_PROXY_NETWORKS)


class ClientAddressMiddleware:
    """Behind trusted proxies, REMOTE_ADDR becomes the client's address from X-Forwarded-For.

    Audit events and rate limits then see the real client. The proxies' own entries are
    skipped from the right; a header from anyone else is ignored.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.META["SWR_PEER_ADDR"] = request.META.get("REMOTE_ADDR", "")
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
        if forwarded and settings.TRUSTED_PROXY_NETWORKS and from_trusted_proxy(request):
            for hop in reversed([part.strip() for part in forwarded.split(",")]):
                try:
                    address = ipaddress.ip_address(hop)
                except ValueError:
                    break
                request.META["REMOTE_ADDR"] = str(address)
                if not any(address in net for net in settings.TRUSTED_PROXY_NETWORKS):
                    break
        return self.get_response(request)


class RefuseNulBytesMiddleware:
    """A NUL byte, or bytes that are not UTF-8, in the path, the query or a form body: a 400.

    No legitimate client sends either. PostgreSQL text cannot store NUL (it would reach a query
    or an audit event as a DataError, a 500), and Django would quietly turn bad UTF-8 into
    replacement characters and act on what is left.
    The registry token service answers its query and form itself, with the JSON errors
    registry clients read (credentials/registry/basic.py runs `not_clean_text` itself, oauth.py
    checks each field), and so does Huawei's API under /v2 and /v3, with its JSON 400
    (credentials/api/dispatch.py runs `not_clean_text` itself).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.token_path = reverse("registry_token")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        answers_itself = request.path_info == self.token_path or API_PATH.match(request.path_info)
        if not answers_itself and not_clean_text(request):
            return HttpResponseBadRequest(
                "A request may not carry NUL characters or bytes that are not UTF-8.",
                content_type="text/plain",
            )
        return self.get_response(request)


FORM = "application/x-www-form-urlencoded"
# Huawei's API's prefixes (credentials/api/urls.py answers everything under them).
API_PATH = re.compile(r"^/v[23](?:/|$)")


def not_clean_text(request: HttpRequest, *, multipart: bool = True) -> bool:
    """Whether the path, the query or a form body holds NUL or bad UTF-8; a multipart body is
    parsed for it only when `multipart` (a caller that never parses one passes False)."""
    raw = [request.META.get("QUERY_STRING", "").encode("latin-1", "replace")]
    if request.method == "POST" and request.content_type == FORM:
        raw.append(request.body)
    for encoded in raw:
        try:
            text = unquote_to_bytes(encoded.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            return True
        if "\x00" in text:
            return True
    if "\x00" in request.path_info:
        return True
    if multipart and request.method == "POST" and request.content_type == "multipart/form-data":
        # Parsed by Django (bad UTF-8 already replaced); a NUL in a field is still refused.
        return any(
            "\x00" in key or any("\x00" in value for value in values if isinstance(value, str))
            for key, values in request.POST.lists()
        )
    return False


class TrustedHeaderSSOMiddleware(RemoteUserMiddleware):
    """Single sign-on: the username in SSO_HEADER, honoured only from TRUSTED_PROXIES."""

    force_logout_if_no_header = False

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        super().__init__(get_response)
        self.header = "HTTP_" + settings.SSO_HEADER.upper().replace("-", "_")

    def process_request(self, request: HttpRequest) -> None:
        if not from_trusted_proxy(request):
            request.META.pop(self.header, None)
            return
        super().process_request(request)


class HtmxLoginRedirectMiddleware:
    """An htmx request whose session has ended is sent to the sign-in page as a whole page,
    rather than having the sign-in form swapped into a table row."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            getattr(request, "htmx", False)
            and response.status_code == 302
            and response.get("Location", "").startswith(resolve_url(settings.LOGIN_URL))
        ):
            return HttpResponseClientRedirect(response["Location"])
        return response
