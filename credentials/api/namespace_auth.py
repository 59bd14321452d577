"""Who may do what in an organization, or on one repository in it, in Huawei's words: lists of
`{user_id, user_name, auth}`. References: SWR API "Organization Permission Management"
(CreateNamespaceAuth, ShowNamespaceAuth, UpdateNamespaceAuth, DeleteNamespaceAuth) and "Image
Permission Management" (CreateUserRepositoryAuth and its Show, Update, Delete), and the models
of huaweicloudsdkswr 3.1.219; docs/HUAWEI-API.md §7.

POST adds grants (a user who already has one here: 409), PATCH changes them (a user who has
none here: 404), DELETE takes a list of user ids whose grants go (none here: 404). A body is
all or nothing: its items are made in one transaction, and the first refusal undoes the ones
before it. `user_id` is the id the console's IAM API gives (a token's `token.user.id`); the
repository in a path writes its "/" as "$", as Huawei's does. Grants to groups are the
console's: these operations show and change users' grants only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse

from credentials.api import identity
from credentials.api.dispatch import json_body
from credentials.api.errors import ApiError, bad_request
from credentials.api.namespaces import creator_name, domain_refusals, organization_for
from credentials.models import GranteeRefused, Organization, Permission, User, grantee_user
from credentials.rules import repository_path_problem

MAX_ITEMS = 100  # users named in one request
USER_AUTHS = 'The body must be a list of {"user_id": "...", "user_name": "...", "auth": 1, 3 or 7}'
USER_IDS = 'The body must be a list of user ids: ["...", ...]'
BAD_REPOSITORY = "4001029"  # Invalid image name.


@dataclass(frozen=True)
class Place:
    """Where the grants are: the organization (repository "") or one repository in it, with
    the SWR codes of "this user already has a permission here" and "…has none here"."""

    organization: Organization
    repository: str
    exists: str
    missing: str

    @property
    def shown(self) -> str:
        return self.repository or self.organization.name


def _organization(caller: identity.Caller, namespace: str) -> Place:
    # The organization permission already exists / does not exist.
    return Place(organization_for(caller, namespace), "", exists="4090076", missing="4040078")


def _repository(caller: identity.Caller, namespace: str, repository: str) -> Place:
    organization = organization_for(caller, namespace)
    path = repository.replace("$", "/")
    problem = repository_path_problem(organization.name, path)
    if problem is not None:
        raise ApiError(400, BAD_REPOSITORY, problem)
    # The permission already exists / does not exist.
    return Place(organization, path, exists="4090089", missing="4040091")


# --- The operations ---------------------------------------------------------------------------


def create_namespace_auth(request: HttpRequest, namespace: str) -> HttpResponse:
    """POST …/namespaces/{namespace}/access [{user_id, user_name, auth}]: 201."""
    caller = identity.authenticate(request)
    return _grant(request, caller, _organization(caller, namespace), adding=True)


def update_namespace_auth(request: HttpRequest, namespace: str) -> HttpResponse:
    """PATCH …/namespaces/{namespace}/access [{user_id, user_name, auth}]: 201."""
    caller = identity.authenticate(request)
    return _grant(request, caller, _organization(caller, namespace), adding=False)


def delete_namespace_auth(request: HttpRequest, namespace: str) -> HttpResponse:
    """DELETE …/namespaces/{namespace}/access ["<user_id>", ...]: 204."""
    caller = identity.authenticate(request)
    return _revoke(request, caller, _organization(caller, namespace))


def show_namespace_auth(request: HttpRequest, namespace: str) -> JsonResponse:
    """GET …/namespaces/{namespace}/access: 200 {id, name, creator_name, self_auth,
    others_auths}."""
    caller = identity.authenticate(request)
    place = _organization(caller, namespace)
    return JsonResponse(_shown(caller, place, creator_name=creator_name(place.organization)))


def create_user_repository_auth(
    request: HttpRequest, namespace: str, repository: str
) -> HttpResponse:
    """POST …/namespaces/{namespace}/repos/{repository}/access [{user_id, user_name, auth}]:
    201."""
    caller = identity.authenticate(request)
    return _grant(request, caller, _repository(caller, namespace, repository), adding=True)


def update_user_repository_auth(
    request: HttpRequest, namespace: str, repository: str
) -> HttpResponse:
    """PATCH …/namespaces/{namespace}/repos/{repository}/access [{user_id, user_name,
    auth}]: 201."""
    caller = identity.authenticate(request)
    return _grant(request, caller, _repository(caller, namespace, repository), adding=False)


def delete_user_repository_auth(
    request: HttpRequest, namespace: str, repository: str
) -> HttpResponse:
    """DELETE …/namespaces/{namespace}/repos/{repository}/access ["<user_id>", ...]: 204."""
    caller = identity.authenticate(request)
    return _revoke(request, caller, _repository(caller, namespace, repository))


def show_user_repository_auth(
    request: HttpRequest, namespace: str, repository: str
) -> JsonResponse:
    """GET …/namespaces/{namespace}/repos/{repository}/access: 200 {id, name, self_auth,
    others_auths}."""
    caller = identity.authenticate(request)
    return JsonResponse(_shown(caller, _repository(caller, namespace, repository)))


# --- Their parts --------------------------------------------------------------------------------


def _grant(
    request: HttpRequest, caller: identity.Caller, place: Place, *, adding: bool
) -> HttpResponse:
    """Each item's grant, through the domain (which authorizes and audits it; asked first,
    before any user id is looked up); then POST refuses a user who had one already and PATCH
    one who had none, undoing the whole body."""
    items = _user_auths(json_body(request))
    by = caller.actor(request)
    with domain_refusals(), transaction.atomic():
        place.organization.require_manage(by, place.repository)
        for user_id, user_name, auth in items:
            user = _grantee(user_id, user_name)
            _, old = place.organization.grant(
                level=_level(auth), by=by, user=user, repository=place.repository
            )
            if adding and old:
                raise ApiError(
                    409,
                    place.exists,
                    f"User {user.get_username()} already has a permission on {place.shown}: "
                    "change it with PATCH",
                )
            if not adding and not old:
                raise ApiError(
                    404,
                    place.missing,
                    f"User {user.get_username()} has no permission on {place.shown}: "
                    "add one with POST",
                )
    return HttpResponse(status=201, content_type="application/json")


def _revoke(request: HttpRequest, caller: identity.Caller, place: Place) -> HttpResponse:
    user_ids = _user_ids(json_body(request))
    by = caller.actor(request)
    with domain_refusals(), transaction.atomic():
        place.organization.require_manage(by, place.repository)
        for user_id in user_ids:
            # Any user, active or not: a deactivated user's grant can go too.
            # isdigit() alone lets "²" by (int() refuses it) and "٣" (int() reads 3).
            known = user_id.isascii() and user_id.isdigit()
            user = User.objects.filter(pk=int(user_id)).first() if known else None
            old = (
                place.organization.revoke(by=by, user=user, repository=place.repository)
                if user is not None
                else 0
            )
            if not old:
                raise ApiError(
                    404, place.missing, f"User {user_id} has no permission on {place.shown}"
                )
    return HttpResponse(status=204)


def _shown(caller: identity.Caller, place: Place, **extra: str) -> dict[str, Any]:
    """Huawei's ShowNamespaceAuth / ShowUserRepositoryAuth: the caller's effective level
    here (their groups' grants and a registry administrator's Manage included), and the other
    users' grants here, by username."""
    others = (
        Permission.objects.filter(
            organization=place.organization, repository=place.repository, user__isnull=False
        )
        .exclude(user=caller.user)
        .select_related("user")
        .order_by("user__username")
    )
    level = place.organization.level_of(caller.user, place.repository)
    return {
        "id": place.organization.pk,
        "name": place.shown,
        **extra,
        "self_auth": _user_auth(caller.user, level),
        "others_auths": [_user_auth(grant.user, grant.level) for grant in others],
    }


def _user_auth(user: User, level: int) -> dict[str, Any]:
    return {"user_id": str(user.pk), "user_name": user.get_username(), "auth": level}


def _user_auths(body: Any) -> list[tuple[str, str, Any]]:
    """(user_id, user_name, auth) of each item; ApiError(400) unless the body is a list of
    1 to MAX_ITEMS objects naming a user id (a string, or a number) once each."""
    if not isinstance(body, list) or not 1 <= len(body) <= MAX_ITEMS:
        raise bad_request(f"{USER_AUTHS}, of 1 to {MAX_ITEMS} users")
    items = []
    for item in body:
        if not isinstance(item, dict) or "auth" not in item:
            raise bad_request(USER_AUTHS)
        user_name = item.get("user_name") or ""
        if not isinstance(user_name, str):
            raise bad_request(USER_AUTHS)
        items.append((_user_id(item.get("user_id"), USER_AUTHS), user_name, item["auth"]))
    _once_each([user_id for user_id, _, _ in items])
    return items


def _user_ids(body: Any) -> list[str]:
    if not isinstance(body, list) or not 1 <= len(body) <= MAX_ITEMS:
        raise bad_request(f"{USER_IDS}, of 1 to {MAX_ITEMS} ids")
    user_ids = [_user_id(user_id, USER_IDS) for user_id in body]
    _once_each(user_ids)
    return user_ids


def _user_id(value: Any, expected: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value:
        raise bad_request(expected)
    return value


def _once_each(user_ids: list[str]) -> None:
    seen: set[str] = set()
    for user_id in user_ids:
        if user_id in seen:
            raise bad_request(f"User {user_id} is named more than once")
        seen.add(user_id)


def _grantee(user_id: str, user_name: str) -> User:
    """The active user `user_id` names; `user_name`, when given, must be theirs."""
    user = grantee_user(user_id=user_id)
    if user_name and user_name != user.get_username():
        raise GranteeRefused(f"user_name {user_name} is not the name of user {user_id}")
    return user


def _level(auth: Any) -> int | str:
    """`auth` as the domain checks it: an integer as it is; anything else (true, "7", 7.0)
    as its JSON text, which is no level — a JSON true would otherwise count as 1."""
    return auth if type(auth) is int else json.dumps(auth)
