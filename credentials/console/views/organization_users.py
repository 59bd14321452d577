"""An organization's page: its Users tab (the organization-wide grants) and its Repository
Permissions tab (grants on one repository inside it), with Add Permission, Modify and
Remove for those who hold Manage there. Glue to Organization.grant and revoke, which check
the actor, keep a Manage holder and audit every change; each refusal is shown in the dialog
that asked, and nothing changes."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from credentials.console.credential_list import Search
from credentials.console.forms import PermissionForm
from credentials.console.views.base import (
    HtmxHttpRequest,
    announce,
    get_organization,
    get_registry,
    remember_region,
)
from credentials.models import (
    Actor,
    ConsoleError,
    GranteeRefused,
    LevelRefused,
    NameRefused,
    NotPermitted,
    Organization,
    Permission,
    Registry,
    grantee_group,
    grantee_user,
)
from credentials.models.permissions import not_permitted_message
from credentials.rules import LEVELS, MANAGE, READ, level_label

TEMPLATE = "credentials/organization.html"
PERMISSIONS_CHANGED = "permissionsChanged"
PAGE_SIZE = 50
TABS = ("users", "repositories")


def _tab(params: Any) -> str:
    return "repositories" if params.get("tab") == "repositories" else "users"


def _tab_url(registry: Registry, organization: Organization, tab: str) -> str:
    name = "organization_repositories" if tab == "repositories" else "organization_users"
    return reverse(name, args=[registry.public_id, organization.public_id])


def _managed_repositories(request: HtmxHttpRequest, organization: Organization) -> set[str]:
    """The repositories of `organization` on which the user holds Manage through a grant on
    that repository (organization-wide Manage covers them all: organization.level)."""
    grants = organization.permissions.applying_to(request.user).filter(level=MANAGE)
    return set(grants.exclude(repository="").values_list("repository", flat=True))


def _may_change(request: HtmxHttpRequest, organization: Organization, repository: str = "") -> bool:
    """Whether the user holds Manage where a grant is made (the domain refuses the others
    itself; this decides which controls they see)."""
    return organization.level >= MANAGE or organization.level_of(request.user, repository) >= MANAGE


def _grant_query(grant: Permission) -> str:
    kind, name = (
        ("user", grant.user.get_username()) if grant.user_id else ("group", grant.group.name)
    )
    params = {"kind": kind, "name": name}
    if grant.repository:
        params |= {"repository": grant.repository, "tab": "repositories"}
    return "?" + urlencode(params)


def _context(
    request: HtmxHttpRequest, registry: Registry, organization: Organization, tab: str, **extra: Any
) -> dict[str, Any]:
    grants = organization.permissions.select_related("user", "group", "granted_by")
    grants = grants.organization_wide() if tab == "users" else grants.exclude(repository="")
    search = Search.from_params(request.GET)
    ordered = grants.order_by("repository", "-level", "user__username", "group__name", "id")
    page = Paginator(ordered, PAGE_SIZE).get_page(search.page)
    managed = _managed_repositories(request, organization) if tab == "repositories" else set()
    organization_manager = organization.level >= MANAGE
    for grant in page.object_list:
        grant.can_change = organization_manager or grant.repository in managed
        grant.query = _grant_query(grant)
    return {
        "registry": registry,
        "organization": organization,
        "section": "organizations",
        "tab": tab,
        "tab_url": _tab_url(registry, organization, tab),
        "page": page,
        **search.page_links(page),
        "can_add": organization_manager or bool(managed),
        "can_delete": organization_manager,
        "level_label": level_label(organization.level) if organization.level else "",
        **extra,
    }


def _page(
    request: HtmxHttpRequest,
    registry: Registry,
    organization: Organization,
    tab: str,
    *,
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    remember_region(request, registry)
    context = _context(request, registry, organization, tab, **extra)
    return render(request, TEMPLATE, context, status=status)


def _tab_view(
    request: HtmxHttpRequest, registry_id: uuid.UUID, organization_id: uuid.UUID, tab: str
) -> HttpResponse:
    registry = get_registry(registry_id)
    organization = get_organization(request, registry, organization_id)
    if request.htmx and not request.htmx.boosted:
        context = _context(request, registry, organization, tab)
        return render(request, f"{TEMPLATE}#organization-tabs", context)
    return _page(request, registry, organization, tab)


@login_required
@require_GET
def organization(
    request: HtmxHttpRequest, registry_id: uuid.UUID, organization_id: uuid.UUID
) -> HttpResponse:
    return redirect("organization_users", registry_id=registry_id, organization_id=organization_id)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def organization_users(
    request: HtmxHttpRequest, registry_id: uuid.UUID, organization_id: uuid.UUID
) -> HttpResponse:
    return _tab_view(request, registry_id, organization_id, "users")


@login_required
@require_GET
@vary_on_headers("HX-Request")
def organization_repositories(
    request: HtmxHttpRequest, registry_id: uuid.UUID, organization_id: uuid.UUID
) -> HttpResponse:
    return _tab_view(request, registry_id, organization_id, "repositories")


# --- Add Permission, Modify, Remove ---------------------------------------------------------


def _dialog(
    request: HtmxHttpRequest,
    registry: Registry,
    organization: Organization,
    dialog: str,
    tab: str,
    *,
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    """A dialog of the page: to htmx its fragment, else the tab with it open."""
    extra |= {"dialog": dialog, "dialog_tab": tab, "levels": _levels()}
    if "form" in extra and "chosen" not in extra:
        extra["chosen"] = str(extra["form"]["level"].value() or "")
    if request.htmx:
        context = {"registry": registry, "organization": organization} | extra
        return render(request, f"{TEMPLATE}#{dialog}-dialog", context, status=status)
    return _page(request, registry, organization, tab, status=status, **extra)


def _levels() -> list[dict[str, Any]]:
    """Read, Edit and Manage with what each lets one do, for the dialogs' choices."""
    does = {
        1: _("pull images"),
        3: _("pull and push images"),
        7: _("pull, push and delete images; add, modify and remove permissions"),
    }
    return [{"value": level, "label": level_label(level), "does": does[level]} for level in LEVELS]


def _done(
    request: HtmxHttpRequest, registry: Registry, organization: Organization, tab: str, message: str
) -> HttpResponse:
    if request.htmx:
        return trigger_client_event(announce(HttpResponse(""), message), PERMISSIONS_CHANGED)
    messages.success(request, message)
    return redirect(_tab_url(registry, organization, tab))


def _refusal_status(exc: ConsoleError) -> int:
    if isinstance(exc, NotPermitted):
        return 403
    if isinstance(exc, GranteeRefused | LevelRefused | NameRefused):
        return 422
    return 409  # LastManagerRefused, the organization or grant gone meanwhile


def _where(organization: Organization, repository: str) -> str:
    return f"{organization.name}/{repository}" if repository else organization.name


def _grantee_label(kind: str, name: str) -> str:
    """How a message begins: User “bob”, Group “devs”."""
    if kind == "group":
        return _("Group “%(name)s”") % {"name": name}
    return _("User “%(name)s”") % {"name": name}


def _level_value(value: str) -> int | str:
    """A level as the domain takes it: a number when it is one (it refuses anything but 1, 3
    and 7 with its own message)."""
    return int(value) if value.isascii() and value.isdigit() and len(value) < 6 else value


def _changed(grantee: str, where: str, level: int, old: int) -> str:
    """What a grant or Modify did, to be announced."""
    names = {"grantee": grantee, "where": where, "level": level_label(level)}
    if not old:
        return _("%(grantee)s now has the %(level)s permission on %(where)s.") % names
    if old == level:
        return _("%(grantee)s already has the %(level)s permission on %(where)s.") % names
    names["old"] = level_label(old)
    return _("%(grantee)s now has the %(level)s permission on %(where)s (was %(old)s).") % names


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def add_permission(
    request: HtmxHttpRequest, registry_id: uuid.UUID, organization_id: uuid.UUID
) -> HttpResponse:
    registry = get_registry(registry_id)
    organization = get_organization(request, registry, organization_id)
    tab = _tab(request.POST if request.method == "POST" else request.GET)
    if request.method == "GET":
        refusal = "" if _may_add(request, organization, tab) else _not_permitted(organization)
        form = PermissionForm(
            initial={"level": READ, "repository": request.GET.get("repository", "")}
        )
        status = 403 if refusal else 200
        return _dialog(
            request, registry, organization, "add", tab, status=status, form=form, refusal=refusal
        )
    form = PermissionForm(request.POST)
    if not form.is_valid():
        return _dialog(request, registry, organization, "add", tab, status=422, form=form)
    data = form.cleaned_data
    repository = data["repository"] if tab == "repositories" else ""
    try:
        # Who holds no Manage here learns nothing of other users' names: refused first.
        organization.require_manage(Actor.from_request(request), repository)
        grantee = (
            {"group": grantee_group(data["name"])}
            if data["kind"] == "group"
            else {"user": grantee_user(username=data["name"])}
        )
        level = _level_value(data["level"])
        _, old = organization.grant(
            level=level, by=Actor.from_request(request), repository=repository, **grantee
        )
    except ConsoleError as exc:
        _form_error(form, exc)
        status = _refusal_status(exc)
        return _dialog(request, registry, organization, "add", tab, status=status, form=form)
    grantee_name = _grantee_label(data["kind"], data["name"])
    message = _changed(grantee_name, _where(organization, repository), level, old)
    return _done(request, registry, organization, tab, message)


def _may_add(request: HtmxHttpRequest, organization: Organization, tab: str) -> bool:
    if tab == "repositories":
        return organization.level >= MANAGE or bool(_managed_repositories(request, organization))
    return organization.level >= MANAGE


def _not_permitted(organization: Organization) -> str:
    return not_permitted_message(organization.name)


def _form_error(form: PermissionForm, exc: ConsoleError) -> None:
    """The domain's refusal beside the field it is about, or above the form."""
    field = {GranteeRefused: "name", LevelRefused: "level", NameRefused: "repository"}
    form.add_error(next((f for kind, f in field.items() if isinstance(exc, kind)), None), str(exc))


def _find_grant(organization: Organization, params: Any) -> Permission | None:
    """The grant a Modify or Remove names (kind, name, repository), or None."""
    kind, name = params.get("kind"), str(params.get("name", ""))
    repository = str(params.get("repository", "")) if _tab(params) == "repositories" else ""
    grantee = {"user__username": name} if kind == "user" else {"group__name": name}
    if kind not in ("user", "group") or not name:
        return None
    found = organization.permissions.filter(repository=repository, **grantee)
    return found.select_related("user", "group").first()


def _gone() -> str:
    return _("This permission no longer exists: someone may have removed it meanwhile.")


def _grant_action(
    request: HtmxHttpRequest, registry_id: uuid.UUID, organization_id: uuid.UUID
) -> tuple[Registry, Organization, str, Permission | None, str, int]:
    """What Modify and Remove share: the organization, the grant they name and whether the
    user may change it; the refusal to show when they may not, or it is gone."""
    registry = get_registry(registry_id)
    organization = get_organization(request, registry, organization_id)
    params = request.POST if request.method == "POST" else request.GET
    tab = _tab(params)
    grant = _find_grant(organization, params)
    refusal, status = "", 200
    if grant is None:
        refusal, status = _gone(), 409
    elif not _may_change(request, organization, grant.repository):
        refusal, status = _not_permitted(organization), 403
    return registry, organization, tab, grant, refusal, status


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def change_permission(
    request: HtmxHttpRequest, registry_id: uuid.UUID, organization_id: uuid.UUID
) -> HttpResponse:
    """Modify: GET opens the dialog with the grant's level chosen; POST sets the new one."""
    registry, organization, tab, grant, refusal, status = _grant_action(
        request, registry_id, organization_id
    )
    sent = str(request.POST.get("level", "")) if request.method == "POST" else ""
    ask = {
        "grant": grant,
        "refusal": refusal,
        "chosen": sent or str(grant.level if grant else ""),
        "retry": not refusal,  # a refusal of the level chosen leaves the choice open
    }
    if refusal or request.method == "GET":
        return _dialog(request, registry, organization, "change", tab, status=status, **ask)
    level = _level_value(sent)
    grantee = {"user": grant.user} if grant.user_id else {"group": grant.group}
    try:
        _, old = organization.grant(
            level=level, by=Actor.from_request(request), repository=grant.repository, **grantee
        )
    except ConsoleError as exc:
        status = _refusal_status(exc)
        ask |= {"refusal": str(exc), "retry": status != 403}
        return _dialog(request, registry, organization, "change", tab, status=status, **ask)
    grantee_name = _grantee_label("user" if grant.user_id else "group", grant.grantee_name)
    message = _changed(grantee_name, _where(organization, grant.repository), level, old)
    return _done(request, registry, organization, tab, message)


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def remove_permission(
    request: HtmxHttpRequest, registry_id: uuid.UUID, organization_id: uuid.UUID
) -> HttpResponse:
    """Remove: GET asks first; POST revokes the grant."""
    registry, organization, tab, grant, refusal, status = _grant_action(
        request, registry_id, organization_id
    )
    ask = {"grant": grant, "refusal": refusal}
    if refusal or request.method == "GET":
        return _dialog(request, registry, organization, "remove", tab, status=status, **ask)
    grantee = {"user": grant.user} if grant.user_id else {"group": grant.group}
    try:
        organization.revoke(by=Actor.from_request(request), repository=grant.repository, **grantee)
    except ConsoleError as exc:
        ask["refusal"] = str(exc)
        status = _refusal_status(exc)
        return _dialog(request, registry, organization, "remove", tab, status=status, **ask)
    names = {
        "grantee": _grantee_label("user" if grant.user_id else "group", grant.grantee_name),
        "where": _where(organization, grant.repository),
        "level": level_label(grant.level),
    }
    message = _("%(grantee)s no longer has the %(level)s permission on %(where)s.") % names
    return _done(request, registry, organization, tab, message)
