"""SWR Enterprise's credential operations on a registry ("instance"): long-term credentials
(create, list, enable/disable, delete) and temporary ones. References: SWR Enterprise API
swr_03_0402..0405 and the SDK's *_instance_lt_credential* / create_instance_temp_credential
(docs/HUAWEI-API.md §2, §6).

`instance_id` is the registry's public id and `project_id` its project's ID, both shown on the
registry's overview. Every action goes through the same model methods as the console, so its
rules, limits, audit events and the tab's cache all hold; events carry the channel "api".
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse

from credentials import registry_cache
from credentials.api import identity
from credentials.api.dispatch import json_body
from credentials.api.errors import bad_request, forbidden, not_found
from credentials.api.swr import mint_temporary
from credentials.models import (
    ConsoleError,
    FederatedRefused,
    LongTermCredential,
    Registry,
)
from credentials.rules import name_problem
from credentials.timestamps import utc_iso

MAX_LIMIT = 100
LISTED_FIELDS = (
    "created_at", "is_enabled", "expires_at", "name", "public_id", "username", "owner__username",
)  # fmt: skip
# What Huawei's shape carries for a credential that never expires (expiry "Never", the default
# unless LONG_TERM_MAX_DAYS is set): the SDK's models say only "expiry time" (a string); SWR
# Enterprise builds on Harbor, whose robot accounts use -1.
NEVER_EXPIRES = "-1"


def _registry(caller: identity.Caller, project_id: str, instance_id: str) -> Registry:
    try:
        found = registry_cache.registry(uuid.UUID(instance_id))
    except ValueError:
        found = None
    if found is None or found.project_id != project_id:
        raise not_found(f"No instance {instance_id} in project {project_id}")
    # An IAM token is scoped to one project (as for the login commands); an access key belongs
    # to the account and reaches all of its projects.
    if caller.access_key is None and found.project_name != caller.project:
        raise forbidden(f"The token is not scoped to project {project_id}")
    return found


def _own_credential(
    caller: identity.Caller, registry: Registry, credential_id: str
) -> LongTermCredential:
    found = LongTermCredential.objects.owned(caller.user, registry, credential_id)
    if found is None:
        raise not_found(f"You have no long-term credential {credential_id} in this instance")
    return found


def _expire_date(expires_at: datetime | None) -> str:
    return utc_iso(expires_at) if expires_at else NEVER_EXPIRES


def create_long_term(request: HttpRequest, project_id: str, instance_id: str) -> JsonResponse:
    """POST …/long-term-credential {"name": ...}: 201; `auth_token` (the password) only here."""
    caller = identity.authenticate(request)
    registry = _registry(caller, project_id, instance_id)
    body = json_body(request)
    name = body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str) or not name:
        raise bad_request('The body must be {"name": "..."}')
    problem = name_problem(name)
    if problem is not None:
        raise bad_request(problem)
    try:
        credential, password = LongTermCredential.objects.create_for(
            owner=caller.user, registry=registry, name=name, by=caller.actor(request)
        )
    except FederatedRefused as exc:
        raise forbidden(str(exc)) from exc
    except ConsoleError as exc:
        raise bad_request(str(exc)) from exc
    return JsonResponse(
        {
            "auth_token": password,
            "created_at": utc_iso(credential.created_at),
            "expire_date": _expire_date(credential.expires_at),
            "token_id": str(credential.public_id),
            "user_id": credential.username,
        },
        status=201,
    )


def list_long_term(request: HttpRequest, project_id: str, instance_id: str) -> JsonResponse:
    """GET …/long-term-credentials?offset=&limit=&self_only=: 200 {total, auth_tokens}.

    self_only=false lists everyone's, for registry administrators only (is_registry_admin).
    """
    caller = identity.authenticate(request)
    registry = _registry(caller, project_id, instance_id)
    offset = _int_param(request, "offset", 0, minimum=0)
    limit = _int_param(request, "limit", MAX_LIMIT, minimum=1)
    if limit > MAX_LIMIT:
        raise bad_request(f"limit can be at most {MAX_LIMIT}")
    self_only = request.GET.get("self_only", "true").lower()
    if self_only not in ("true", "false"):
        raise bad_request("self_only must be true or false")
    credentials: QuerySet[LongTermCredential] = LongTermCredential.objects.in_registry(registry)
    if self_only == "true":
        credentials = credentials.filter(owner=caller.user)
    elif not is_registry_admin(caller.user):
        raise forbidden("Only registry administrators can list everyone's credentials")
    total = credentials.count()
    # Plain rows, not model instances: building 100 instances cost more than the whole query.
    rows = credentials.values(*LISTED_FIELDS)[offset : offset + limit] if total > offset else []
    instance = str(registry.public_id)
    return JsonResponse({"total": total, "auth_tokens": [_listed(row, instance) for row in rows]})


def is_registry_admin(user: Any) -> bool:
    """Who may list every user's credentials (Huawei's te_admin): superusers and whoever holds
    the permission to view long-term credentials in the admin (the Auditors group)."""
    return bool(user.is_active and user.has_perm("credentials.view_longtermcredential"))


def _listed(row: dict[str, Any], instance_id: str) -> dict[str, Any]:
    return {
        "created_at": utc_iso(row["created_at"]),
        "enable": row["is_enabled"],
        "expire_date": _expire_date(row["expires_at"]),
        "instance_id": instance_id,
        "name": row["name"],
        "token_id": str(row["public_id"]),
        "user_id": row["username"],
        "user_profile": row["owner__username"],
    }


def _int_param(request: HttpRequest, name: str, default: int, *, minimum: int) -> int:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise bad_request(f"{name} must be an integer of at least {minimum}")
    return value


def update_long_term(
    request: HttpRequest, project_id: str, instance_id: str, credential_id: str
) -> HttpResponse:
    """PUT …/long-term-credentials/{id} {"enable": bool}: 200, no body."""
    caller = identity.authenticate(request)
    registry = _registry(caller, project_id, instance_id)
    body = json_body(request)
    enable = body.get("enable") if isinstance(body, dict) else None
    if not isinstance(enable, bool):
        raise bad_request('The body must be {"enable": true} or {"enable": false}')
    credential = _own_credential(caller, registry, credential_id)
    try:
        if enable:
            credential.enable(by=caller.actor(request))
        else:
            credential.disable(by=caller.actor(request))
    except ConsoleError as exc:  # an expired credential cannot be enabled again
        raise bad_request(str(exc)) from exc
    return HttpResponse(status=200, content_type="application/json")


def delete_long_term(
    request: HttpRequest, project_id: str, instance_id: str, credential_id: str
) -> HttpResponse:
    """DELETE …/long-term-credentials/{id}: 204, no body."""
    caller = identity.authenticate(request)
    registry = _registry(caller, project_id, instance_id)
    _own_credential(caller, registry, credential_id).delete_by(by=caller.actor(request))
    return HttpResponse(status=204)


def create_temporary(request: HttpRequest, project_id: str, instance_id: str) -> JsonResponse:
    """POST …/temp-credential: 201 {auth_token, created_at, expire_date, token_id, user_id}."""
    caller = identity.authenticate(request)
    registry = _registry(caller, project_id, instance_id)
    credential, password = mint_temporary(request, caller, registry)
    return JsonResponse(
        {
            "auth_token": password,
            "created_at": utc_iso(credential.created_at),
            "expire_date": utc_iso(credential.expires_at),
            "token_id": str(credential.public_id),
            "user_id": credential.username,
        },
        status=201,
    )
