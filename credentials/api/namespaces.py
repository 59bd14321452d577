"""SWR's organizations ("namespaces"): create, list, show and delete them. References: SWR API
"Organization Management" (CreateNamespace, ListNamespaces, ShowNamespace, DeleteNamespaces)
and the models of huaweicloudsdkswr 3.1.219; docs/HUAWEI-API.md §7.

Huawei's paths name no registry: an organization belongs to the registry of the caller's
project (`registry_for`), the one its login command logs in to. Every action is the domain's
(credentials/models/organizations.py), which decides who may do it and audits it; each of its
refusals is one Huawei error (`REFUSALS`), for these operations and the permissions' alike
(api/namespace_auth.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from credentials.api import identity
from credentials.api.dispatch import json_body
from credentials.api.errors import ApiError, bad_request
from credentials.api.swr import project_registries
from credentials.models import (
    ConsoleError,
    GranteeRefused,
    LastManagerRefused,
    LevelRefused,
    NameRefused,
    NotPermitted,
    Organization,
    OrganizationExists,
    Registry,
)

# Each refusal of the domain, and the SWR error it is (SWR API reference, "Error Codes").
REFUSALS: dict[type[ConsoleError], tuple[int, str]] = {
    NameRefused: (400, "4001028"),  # Invalid organization name.
    OrganizationExists: (409, "4090060"),  # The organization already exists.
    GranteeRefused: (400, "4001067"),  # Invalid username.
    LevelRefused: (400, "4001066"),  # Invalid permissions.
    LastManagerRefused: (400, "4001065"),  # Invalid organization permissions.
    NotPermitted: (403, "4039002"),  # You do not have the permission to perform this operation.
    # Any other: the organization (or its registry) went while the action waited for it.
    ConsoleError: (404, "4040058"),  # The organization does not exist.
}
NO_ORGANIZATION = "4040058"
BAD_FILTER = "4001035"  # Invalid filtering criteria.


def refusal(exc: ConsoleError) -> ApiError:
    """The Huawei error a refusal of the domain is, with the domain's own message."""
    kind = next(kind for kind in type(exc).__mro__ if kind in REFUSALS)
    status, code = REFUSALS[kind]
    return ApiError(status, code, str(exc))


@contextmanager
def domain_refusals() -> Iterator[None]:
    """Turn the domain's refusals raised inside into Huawei's errors."""
    try:
        yield
    except ConsoleError as exc:
        raise refusal(exc) from exc


def registry_for(caller: identity.Caller) -> Registry:
    """The registry whose organizations the caller's requests name: its project's (an IAM
    token's scope, or an access key's signed X-Project-Id, else SWR_DEFAULT_REGION); of a
    project's several registries, the first by name."""
    return project_registries(caller.project)[0]


def organization_for(caller: identity.Caller, namespace: str) -> Organization:
    """The caller's registry's organization `namespace` (its name, or its public id) as the
    caller sees it, with `level`; 404 for one they may not see, another registry's, or none."""
    found = Organization.objects.lookup(caller.user, registry_for(caller), namespace)
    if found is None:
        raise ApiError(
            404,
            NO_ORGANIZATION,
            f"The organization {namespace[:64]} does not exist, or you have no permission in it",
        )
    return found


def create_namespace(request: HttpRequest) -> HttpResponse:
    """POST /v2/manage/namespaces {"namespace": ...}: 201; the creator gets Manage."""
    caller = identity.authenticate(request)
    registry = registry_for(caller)
    body = json_body(request)
    name = body.get("namespace") if isinstance(body, dict) else None
    if not isinstance(name, str):
        raise bad_request('The body must be {"namespace": "<organization name>"}')
    with domain_refusals():
        Organization.objects.create_for(registry=registry, name=name, by=caller.actor(request))
    return HttpResponse(status=201, content_type="application/json")


def list_namespaces(request: HttpRequest) -> JsonResponse:
    """GET /v2/manage/namespaces?namespace=&filter=namespace::{name}|mode::{mode}: 200
    {"namespaces": [{id, name, creator_name, auth}]}, by name. Without a mode, the
    organizations where the caller holds a permission on the organization itself; with
    mode::visible, also those where they hold one only on a repository (auth 0)."""
    caller = identity.authenticate(request)
    names, visible = _list_filter(request)
    found = Organization.objects.for_user(caller.user, registry_for(caller))
    if not visible:
        found = found.filter(level__gt=0)
    for name in names:
        found = found.filter(name__icontains=name)
    found = found.select_related("created_by").order_by("name")
    return JsonResponse({"namespaces": [shown(organization) for organization in found]})


def _list_filter(request: HttpRequest) -> tuple[list[str], bool]:
    """The name parts to look for (`namespace`, and the filter's) and whether the mode is
    `visible`; ApiError(400) for a filter that is not `namespace::{name}|mode::{mode}`."""
    names = [request.GET.get("namespace", "")]
    mode = ""
    raw = request.GET.get("filter", "")
    for part in raw.split("|") if raw else ():
        key, separator, value = part.partition("::")
        if not separator or key not in ("namespace", "mode"):
            raise ApiError(400, BAD_FILTER, "filter must be namespace::{name}|mode::{mode}")
        if key == "namespace":
            names.append(value)
        else:
            mode = value
    if mode not in ("", "visible"):
        raise ApiError(400, BAD_FILTER, "The filter's mode can only be visible")
    return [name for name in names if name], mode == "visible"


def shown(organization: Organization) -> dict[str, Any]:
    """Huawei's ShowNamespace: `auth` is the caller's level on the organization itself."""
    return {
        "id": organization.pk,
        "name": organization.name,
        "creator_name": creator_name(organization),
        "auth": organization.level,
    }


def creator_name(organization: Organization) -> str:
    creator = organization.created_by
    return creator.get_username() if creator is not None else ""


def show_namespace(request: HttpRequest, namespace: str) -> JsonResponse:
    """GET /v2/manage/namespaces/{namespace}: 200 {id, name, creator_name, auth}."""
    caller = identity.authenticate(request)
    return JsonResponse(shown(organization_for(caller, namespace)))


def delete_namespaces(request: HttpRequest, namespace: str) -> HttpResponse:
    """DELETE /v2/manage/namespaces/{namespace}: 204; its permissions go with it."""
    caller = identity.authenticate(request)
    organization = organization_for(caller, namespace)
    with domain_refusals():
        organization.delete_by(by=caller.actor(request))
    return HttpResponse(status=204)
