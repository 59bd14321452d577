"""The GET flow: HTTP Basic credentials, `service` and `scope` in the query string; docker,
skopeo, helm and podman log in this way."""

from __future__ import annotations

import base64
import binascii

from django.http import HttpRequest, HttpResponse

from credentials.identity.renewal import still_accepted
from credentials.middleware import not_clean_text
from credentials.registry.attempts import record_failure, remember_success, throttle_verdict
from credentials.registry.principals import (
    MAX_CREDENTIAL_LENGTH,
    issue_refresh_token,
    touch_last_used,
    verify,
)
from credentials.registry.scopes import granted_access
from credentials.registry.tokens import (
    WWW_AUTHENTICATE,
    issue_token,
    registry_error,
    token_response,
)


def _basic_credentials(request: HttpRequest) -> tuple[str, str] | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded or len(encoded) > 4 * MAX_CREDENTIAL_LENGTH:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, colon, password = decoded.partition(":")
    if not colon or not username or not password or "\x00" in decoded:
        return None  # PostgreSQL text cannot hold NUL: such a username exists nowhere
    return username, password


def token_get(request: HttpRequest) -> HttpResponse:
    """The GET flow: HTTP Basic credentials, `service` and `scope` in the query string."""
    if not_clean_text(request):  # the middleware leaves this URL to the token service
        return registry_error(
            400, "BAD_REQUEST", "A request may not carry NUL characters or bytes that are not UTF-8"
        )
    service = request.GET.get("service", "")
    credentials = _basic_credentials(request)
    username = credentials[0][:MAX_CREDENTIAL_LENGTH] if credentials else ""
    verdict = throttle_verdict(request, username, service)
    if verdict.throttled:
        return _unauthorized()
    if credentials is None:
        return _refuse(request, username, service, "missing or malformed Basic credentials")
    if len(credentials[0]) > MAX_CREDENTIAL_LENGTH or len(credentials[1]) > MAX_CREDENTIAL_LENGTH:
        return _refuse(request, username, service, "credentials too long")

    principal = verify(*credentials, service)
    if principal is None:
        return _refuse(request, username, service, "wrong, disabled or expired credential")
    if principal.registry_id is None:
        return _refuse(request, username, service, "unknown service, or another registry's")
    if not still_accepted(principal.owner_id, principal.long_term_id):
        return _refuse(request, username, service, "owner no longer accepted by the provider")

    remember_success(request, verdict, username)
    touch_last_used(principal)
    access = granted_access(principal, request.GET.getlist("scope"))
    body = issue_token(principal.username, service, access)
    if request.GET.get("offline_token") == "true":  # docker login asks for one
        body["refresh_token"] = issue_refresh_token(principal, service)
    return token_response(body)


def _unauthorized() -> HttpResponse:
    # The same answer for every failure, so a username cannot be told from a password.
    response = registry_error(401, "UNAUTHORIZED", "authentication required")
    response["WWW-Authenticate"] = WWW_AUTHENTICATE
    return response


def _refuse(request: HttpRequest, username: str, service: str, reason: str) -> HttpResponse:
    record_failure(request, username, service, reason)
    return _unauthorized()
