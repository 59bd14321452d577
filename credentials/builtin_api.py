"""The built-in upstream: the console serves Huawei's IAM token and SWR secret contracts itself.

Used when no SWR_API_URL is configured, so the Temporary Credentials tab works with no cloud
account, and the upstream client is exercised over real HTTP against the documented shapes.
The credentials minted here are real: the registry token service accepts them for 24 hours.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from credentials import login_formats
from credentials.models import (
    TEMPORARY_VALIDITY,
    Actor,
    AuditEvent,
    Registry,
    TemporaryCredential,
    User,
    insert_together,
)


def swr_error(status: int, code: str, message: str) -> JsonResponse:
    """An error body in both of SWR's styles (SWR API reference, "Error Codes")."""
    body = {
        "error_code": f"SVCSTG.SWR.{code}",
        "error_msg": message,
        "errors": [{"errorCode": f"SVCSTG.SWR.{code}", "errorMessage": message}],
    }
    return JsonResponse(body, status=status)


def builtin_only(view: Callable[[HttpRequest], JsonResponse]) -> Callable[[HttpRequest], Any]:
    """The built-in API exists only while no real upstream is configured."""

    @wraps(view)
    def wrapper(request: HttpRequest) -> Any:
        if not settings.SWR_BUILTIN_API:
            raise Http404("The built-in SWR API is off: SWR_API_URL names a real upstream.")
        return view(request)

    return wrapper


def _is_json_request(request: HttpRequest) -> bool:
    return request.content_type == "application/json"


def _password_grant(body: Any) -> tuple[str, str, str, str] | None:
    """(domain, user, password, project) from an IAM password-method body, or None."""
    try:
        auth = body["auth"]
        identity = auth["identity"]
        user = identity["password"]["user"]
        fields = (user["domain"]["name"], user["name"], user["password"])
        project = auth.get("scope", {}).get("project", {}).get("name", "")
    except (KeyError, TypeError, AttributeError):
        return None
    if "password" not in identity.get("methods", []):
        return None
    if not all(isinstance(field, str) and field for field in fields):
        return None
    return (*fields, project if isinstance(project, str) else "")


@csrf_exempt
@builtin_only
@require_POST
@never_cache
def iam_tokens(request: HttpRequest) -> JsonResponse:
    """POST /v3/auth/tokens: IAM's password grant, against console users."""
    if not _is_json_request(request):
        return swr_error(400, "4001036", "Content-Type must be application/json")
    try:
        grant = _password_grant(json.loads(request.body))
    except (ValueError, UnicodeDecodeError):
        grant = None
    if grant is None:
        return swr_error(400, "4001036", "Invalid request body: expected the password method")
    domain, username, password, project = grant
    allowed_domain = settings.SWR_BUILTIN_IAM_DOMAIN
    user = authenticate(request, username=username, password=password)
    # A failed password is audited by the user_login_failed signal (credentials/signals.py).
    if user is None or (allowed_domain and domain != allowed_domain):
        return swr_error(401, "4010000", "Authentication failed")
    project = project or settings.SWR_DEFAULT_REGION
    token, expires_at = User.objects.issue_iam_token(user, project)
    response = JsonResponse(
        {
            "token": {
                "methods": ["password"],
                "expires_at": _iso(expires_at),
                "issued_at": _iso(expires_at - TEMPORARY_VALIDITY),
                "user": {
                    "name": user.get_username(),
                    "id": str(user.pk),
                    "domain": {"name": domain},
                },
                "project": {"name": project},
            }
        },
        status=201,
    )
    response["X-Subject-Token"] = token
    return response


@csrf_exempt
@builtin_only
@require_POST
@never_cache
def create_secret(request: HttpRequest) -> JsonResponse:
    """POST /v2/manage/utils/secret: SWR's CreateSecret, minting a real 24-hour login."""
    if not _is_json_request(request):
        return swr_error(400, "4001036", "Content-Type must be application/json")
    token = request.headers.get("X-Auth-Token", "")
    found = User.objects.for_iam_token(token) if token else None
    if found is None:
        return swr_error(401, "4010000", "Authentication failed")
    user, token_project = found
    project = request.GET.get("projectname") or token_project
    registries = list(Registry.objects.filter(project_name=project).select_related("region"))
    if not registries:
        return swr_error(400, "4001025", f"No registry belongs to project {project}")

    credential, password = TemporaryCredential.objects.build(
        user, project, registries[0].region.name
    )
    event = AuditEvent.build(
        AuditEvent.Action.TEMPORARY_MINTED,
        Actor(user=user, ip_address=request.META.get("REMOTE_ADDR")),
        credential=credential,
        project=project,
        expires_at=_iso(credential.expires_at),
    )
    insert_together(credential, event)  # no credential without its event
    auth = login_formats.basic_auth(credential.username, password)
    response = JsonResponse(
        {"auths": {registry.address: {"auth": auth} for registry in registries}}
    )
    response["X-Swr-Dockerlogin"] = login_formats.docker_command(
        credential.username, password, registries[0].address
    )
    response["X-Swr-Expireat"] = _iso(credential.expires_at)
    return response


def _iso(moment: Any) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
