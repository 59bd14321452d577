"""IAM's token contract, against console users: POST /v3/auth/tokens (obtain, password method)
and GET /v3/auth/tokens (validate X-Subject-Token). References: IAM API "Obtaining a User
Token" (iam_30_0001) and "Validating a Token"; docs/HUAWEI-API.md §3 and §6.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate as check_password
from django.core import signing as django_signing
from django.http import HttpRequest, JsonResponse

from credentials.api import identity, signing
from credentials.api.dispatch import json_body
from credentials.api.errors import ApiError, bad_request, forbidden, unauthorized
from credentials.models import TEMPORARY_VALIDITY, Actor, AuditEvent, User, project_id_for
from credentials.timestamps import utc_iso


def _password_grant(body: Any) -> tuple[str, str, str, str] | None:
    """(domain, user, password, project) from an IAM password-method body, or None."""
    try:
        auth = body["auth"]
        identity_part = auth["identity"]
        user = identity_part["password"]["user"]
        fields = (user["domain"]["name"], user["name"], user["password"])
        project = auth.get("scope", {}).get("project", {}).get("name", "")
    except (KeyError, TypeError, AttributeError):
        return None
    if "password" not in identity_part.get("methods", []):
        return None
    if not all(isinstance(field, str) and field and "\x00" not in field for field in fields):
        return None  # PostgreSQL text cannot hold NUL: no such user exists
    if not isinstance(project, str) or "\x00" in project:
        project = ""
    return (*fields, project)


def create_token(request: HttpRequest) -> JsonResponse:
    """POST /v3/auth/tokens: the password grant; 201 with the token in X-Subject-Token."""
    if signing.is_signed(request):
        identity.authenticate(request)  # a signature that is sent must hold
    grant = _password_grant(json_body(request))
    if grant is None:
        raise bad_request("Invalid request body: expected the password method")
    domain, username, password, project = grant
    allowed_domain = settings.SWR_BUILTIN_IAM_DOMAIN
    user = check_password(request, username=username, password=password)
    # A failed password is audited by the user_login_failed signal (credentials/signals.py).
    if user is None or (allowed_domain and domain != allowed_domain):
        raise unauthorized()
    project = project or settings.SWR_DEFAULT_REGION
    token, _ = User.objects.issue_iam_token(user, project)
    # A token is a sign-in through the API: audited as one (a failed password already is).
    AuditEvent.record(
        AuditEvent.Action.SIGN_IN,
        replace(Actor.from_request(request), user=user),
        path=request.path,
        project=project,
    )
    response = JsonResponse(_token_body(user, project, _expires_at(token), domain), status=201)
    response["X-Subject-Token"] = token
    return response


def validate_token(request: HttpRequest) -> JsonResponse:
    """GET /v3/auth/tokens: 200 with the body of X-Subject-Token, 404 when it is not valid.

    A caller validates its own tokens; staff validate anyone's (Keystone's admin rule).
    """
    caller = identity.authenticate(request)
    subject = request.headers.get("X-Subject-Token", "")
    found = User.objects.for_iam_token(subject) if subject else None
    if found is None:
        raise ApiError(404, "4040000", "The token in X-Subject-Token is not valid")
    user, project = found
    if user.pk != caller.user.pk and not caller.user.is_staff:
        raise forbidden("Only the token's own user or staff can validate it")
    body = _token_body(user, project, _expires_at(subject), settings.SWR_BUILTIN_IAM_DOMAIN)
    response = JsonResponse(body)
    response["X-Subject-Token"] = subject
    return response


def _expires_at(token: str) -> datetime:
    """24 hours after the second the token's signature was made (its timestamp, base62):
    the same answer when the token is obtained and whenever it is validated."""
    issued = datetime.fromtimestamp(django_signing.b62_decode(token.split(":")[-2]), tz=UTC)
    return issued + TEMPORARY_VALIDITY


def _token_body(user: User, project: str, expires_at: datetime, domain: str) -> dict[str, Any]:
    return {
        "token": {
            "methods": ["password"],
            "expires_at": utc_iso(expires_at, microseconds=True),
            "issued_at": utc_iso(expires_at - TEMPORARY_VALIDITY, microseconds=True),
            "user": {
                "name": user.get_username(),
                "id": str(user.pk),
                "domain": {"name": domain},
            },
            "project": {"name": project, "id": project_id_for(project)},
        }
    }
