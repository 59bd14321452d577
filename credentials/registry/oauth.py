"""POST /service/token: the OAuth2 flow of the registry token service (Distribution's oauth.md).

containerd — so every Kubernetes node — asks this way first whenever it has a username and a
password, and falls back to the GET flow (`basic`) only after a 401, 404 or 405; the
docker CLI asks this way with `grant_type=refresh_token` once it holds a refresh token. The
URL serves both flows (credentials/registry/views.py).

Answers are JSON in RFC 6749's shape (5.1, 5.2): malformed requests are a 400 that stores
nothing, refused credentials a 401 that is audited and counted like a failed GET login.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import BadRequest, RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils import timezone

from credentials.identity.renewal import still_accepted
from credentials.models import RefreshToken
from credentials.registry import attempts, principals
from credentials.registry.principals import MAX_CREDENTIAL_LENGTH, Principal
from credentials.registry.scopes import granted_access
from credentials.registry.tokens import (
    WWW_AUTHENTICATE,
    issue_token,
    oauth_error,
    token_response,
)

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
# A real request is a few hundred bytes; this leaves room for a long list of scopes and
# refuses anything larger before a byte of it is parsed.
MAX_BODY_BYTES = 16 * 1024
# Per field, after the body limit: credentials are capped as on the GET flow.
FIELD_LIMITS = {
    "username": MAX_CREDENTIAL_LENGTH,
    "password": MAX_CREDENTIAL_LENGTH,
    "refresh_token": MAX_CREDENTIAL_LENGTH,
}
DEFAULT_FIELD_LIMIT = 1024
SCOPE_LIMIT = 8 * 1024


class InvalidRequest(Exception):
    """The request is malformed (RFC 6749 5.2): a 400 with this error code and description."""

    def __init__(self, description: str, code: str = "invalid_request") -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def token_post(request: HttpRequest) -> HttpResponse:
    try:
        form = _form(request)
        grant_type = _field(form, "grant_type")
        if grant_type not in ("password", "refresh_token"):
            raise InvalidRequest(
                "grant_type must be password or refresh_token.", "unsupported_grant_type"
            )
        request.swr_token_flow = "password" if grant_type == "password" else "refresh"  # type: ignore[attr-defined]
        _field(form, "client_id")  # required by the specification; any value will do
        service = _field(form, "service")
        scopes = form.getlist("scope")
        if sum(len(scope) for scope in scopes) > SCOPE_LIMIT or any("\x00" in s for s in scopes):
            raise InvalidRequest("scope is too long or contains a NUL character.")
        offline = _field(form, "access_type", required=False) == "offline"
        if grant_type == "password":
            username, password = _field(form, "username"), _field(form, "password")
        else:
            refresh_token = _field(form, "refresh_token")
    except InvalidRequest as error:
        return _error(400, error.code, error.description)

    if grant_type == "password":
        return _password_grant(request, username, password, service, scopes, offline)
    return _refresh_grant(request, refresh_token, service, scopes)


def _form(request: HttpRequest) -> QueryDict:
    content_type = request.content_type or ""
    if content_type.lower() != FORM_CONTENT_TYPE:
        raise InvalidRequest(f"The body must be {FORM_CONTENT_TYPE}.")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = -1
    if not 0 <= length <= MAX_BODY_BYTES:
        raise InvalidRequest(f"The body must be at most {MAX_BODY_BYTES} bytes.")
    try:
        return request.POST
    except (RequestDataTooBig, TooManyFieldsSent) as exc:
        raise InvalidRequest("The body is too large.") from exc
    except BadRequest as exc:  # Django reads a form in UTF-8 only
        raise InvalidRequest(f"The body must be {FORM_CONTENT_TYPE} in UTF-8.") from exc


def _field(form: QueryDict, name: str, *, required: bool = True) -> str:
    values = form.getlist(name)
    if not values or not values[0]:
        if required:
            raise InvalidRequest(f"{name} is required.")
        return ""
    if len(values) > 1:
        raise InvalidRequest(f"{name} must be given once.")
    value = values[0]
    if len(value) > FIELD_LIMITS.get(name, DEFAULT_FIELD_LIMIT):
        raise InvalidRequest(f"{name} is too long.")
    if "\x00" in value:
        raise InvalidRequest(f"{name} contains a NUL character.")
    return value


def _password_grant(
    request: HttpRequest,
    username: str,
    password: str,
    service: str,
    scopes: list[str],
    offline: bool,
) -> HttpResponse:
    verdict = attempts.throttle_verdict(request, username, service)
    if verdict.throttled:
        return _unauthorized()
    principal = principals.verify(username, password, service)
    if principal is None:
        return _refuse(request, username, service, "wrong, disabled or expired credential")
    if principal.registry_id is None:
        return _refuse(request, username, service, "unknown service, or another registry's")
    if not still_accepted(principal.owner_id, principal.long_term_id):
        return _refuse(request, username, service, "owner no longer accepted by the provider")
    attempts.remember_success(request, verdict, username)
    return _grant(principal, service, scopes, offline)


def _refresh_grant(
    request: HttpRequest, refresh_token: str, service: str, scopes: list[str]
) -> HttpResponse:
    verdict = attempts.throttle_verdict(request, "", service)
    if verdict.throttled:
        return _unauthorized()
    check = RefreshToken.objects.verify(
        refresh_token, service, used_since=timezone.now() - principals.LAST_USED_PRECISION
    )
    if check.refusal:
        return _refuse(request, check.username, service, check.refusal)
    if not still_accepted(check.owner_id, check.long_term_id):
        return _refuse(request, check.username, service, "owner no longer accepted by the provider")
    principal = Principal(
        check.username,
        check.long_term_id,
        check.owner_id,
        last_used_recently=check.last_used_recently,
        registry_id=check.registry_id,
    )
    attempts.remember_success(request, verdict, "")
    return _grant(principal, service, scopes, offline=False)


def _grant(principal: Principal, service: str, scopes: list[str], offline: bool) -> HttpResponse:
    principals.touch_last_used(principal)
    access = granted_access(principal, scopes)
    issued = issue_token(principal.username, service, access)
    body: dict[str, Any] = {
        "access_token": issued["access_token"],
        # What was granted (RFC 6749 5.1): a resource granted nothing is not named.
        "scope": " ".join(
            f"{item['type']}:{item['name']}:{','.join(item['actions'])}"
            for item in access
            if item["actions"]
        ),
        "expires_in": issued["expires_in"],
        "issued_at": issued["issued_at"],
    }
    if offline:
        body["refresh_token"] = principals.issue_refresh_token(principal, service)
    return token_response(body)


def _refuse(request: HttpRequest, username: str, service: str, reason: str) -> HttpResponse:
    attempts.record_failure(request, username, service, reason)
    return _unauthorized()


def _unauthorized() -> HttpResponse:
    # One answer for every refusal, so a username cannot be told from a password.
    response = _error(401, "invalid_grant", "authentication required")
    response["WWW-Authenticate"] = WWW_AUTHENTICATE
    return response


def _error(status: int, code: str, description: str) -> HttpResponse:
    return oauth_error(status, code, description)
