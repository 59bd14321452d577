"""The Long-Term Credentials tab: its list, Create, and each credential's Enable, Disable,
Delete and Reset Password. Function views that glue requests to the domain actions in
credentials/models/."""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from credentials import login_formats
from credentials.console import page_cache
from credentials.console.credential_list import ListQuery
from credentials.console.forms import CreateLongTermCredentialForm
from credentials.console.views.base import (
    ACCESS_TEMPLATE,
    HtmxHttpRequest,
    announce,
    get_registry,
    remember_region,
    secret_answer,
)
from credentials.models import (
    FEDERATED_MESSAGE,
    Actor,
    ConsoleError,
    ExpiryRefused,
    LongTermCredential,
    NarrowingRefused,
    Organization,
    Registry,
)

logger = logging.getLogger(__name__)

CREDENTIALS_CHANGED = "credentialsChanged"


def _get_credential(
    request: HtmxHttpRequest, registry: Registry, credential_id: uuid.UUID | str
) -> LongTermCredential:
    """The signed-in user's credential in `registry`; anyone else's is a 404."""
    credential = LongTermCredential.objects.owned(request.user, registry, credential_id)
    if credential is None:
        raise Http404("No such credential.")
    return credential


def _own_credential(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The view of one credential gets, for the URL's ids, its registry and the signed-in user's
    credential in it; anyone else's is a 404."""

    @functools.wraps(view)
    def with_credential(
        request: HtmxHttpRequest, registry_id: uuid.UUID, credential_id: uuid.UUID, **kwargs: Any
    ) -> HttpResponse:
        registry = get_registry(registry_id)
        return view(request, registry, _get_credential(request, registry, credential_id), **kwargs)

    return with_credential


# --- Long-Term Credentials tab --------------------------------------------------------


def _long_term_context(request: HtmxHttpRequest, registry: Registry) -> dict[str, Any]:
    credentials = LongTermCredential.objects.for_user(request.user).in_registry(registry)
    query = ListQuery.from_params(request.GET)
    # Each row says who disabled it (an administrator's decision binds) and what it reaches.
    shown = query.apply(credentials).select_related("status_changed_by")
    page = Paginator(shown, settings.LONG_TERM_PAGE_SIZE).get_page(query.page)
    page.object_list = list(page.object_list)
    # The organizations of those narrowed to some: one query more, and only when there are.
    narrowed = [row for row in page.object_list if not row.all_organizations]
    prefetch_related_objects(narrowed, "organizations")
    return {
        "registry": registry,
        "section": "access-credentials",
        "tab": "long-term",
        "page": page,
        "list": query,
        **query.page_links(page),
        "used": credentials.count() if query.filtered else page.paginator.count,
        "can_create": not request.user.is_federated,
        "federated_message": FEDERATED_MESSAGE,
        "credential_limit": settings.LONG_TERM_CREDENTIALS_PER_REGISTRY,
    }


def _confirmed_action(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """An action on one of the user's credentials that asks first: GET opens its dialog, POST
    acts."""
    view = vary_on_headers("HX-Request")(_own_credential(view))
    return login_required(require_http_methods(["GET", "POST"])(view))


def _dialog(
    request: HtmxHttpRequest,
    registry: Registry,
    dialog: str,
    *,
    partial: str = "",
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    """One of the tab's dialogs: to htmx its fragment (or `partial`, a piece of it), else the whole
    tab with the dialog open."""
    if request.htmx:
        context = {"registry": registry} | extra
        name = partial or f"{dialog}-dialog"
        return render(request, f"{ACCESS_TEMPLATE}#{name}", context, status=status)
    return _render_long_term(request, registry, dialog=dialog, status=status, **extra)


def _render_long_term(
    request: HtmxHttpRequest,
    registry: Registry,
    *,
    dialog: str = "",
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    remember_region(request, registry)
    context = _long_term_context(request, registry) | {"dialog": dialog} | extra
    return render(request, ACCESS_TEMPLATE, context, status=status)


def _tab_url(registry: Registry, request: HttpRequest | None = None) -> str:
    """The tab's list as the row form that was used showed it (its hidden fields)."""
    url = reverse("long_term_tab", kwargs={"registry_id": registry.public_id})
    return url + (ListQuery.from_params(request.POST).url() if request else "")


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def long_term_tab(request: HtmxHttpRequest, registry_id: uuid.UUID) -> HttpResponse:
    registry = get_registry(registry_id)
    if request.method == "POST":
        # The create and reset forms post here without JavaScript, so the browser ends on the
        # list (docs/DECISIONS.md); with htmx they post to their own URLs.
        return _act_for_page(request, registry)
    partial = bool(request.htmx and not request.htmx.boosted)
    if not partial:
        remember_region(request, registry)
    key = page_cache.key(request, registry, partial=partial)
    html = page_cache.get(key)
    if html is not None:
        return HttpResponse(html)
    if partial:
        context = _long_term_context(request, registry)
        response = render(request, f"{ACCESS_TEMPLATE}#access-tabs", context)
    else:
        response = _render_long_term(request, registry)
    page_cache.set(key, response.content)
    return response


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def create_long_term(request: HtmxHttpRequest, registry_id: uuid.UUID) -> HttpResponse:
    registry = get_registry(registry_id)
    refusal = LongTermCredential.objects.refusal_for(request.user)
    if refusal is not None:
        return _create_refused(request, registry, refusal, status=403)

    if request.method == "GET":
        return _dialog(request, registry, "create", **_create_form(request, registry))

    return _create(request, registry)


def _create_form(request: HtmxHttpRequest, registry: Registry, data: Any = None) -> dict[str, Any]:
    """The create dialog's form, whose Organizations offers those of `registry` where the user
    holds a permission (every one for a registry administrator)."""
    choices = Organization.objects.for_user(request.user, registry).order_by("name")
    form = CreateLongTermCredentialForm(data, organizations=choices)
    return {"form": form, "can_narrow": choices.exists()}


def _act_for_page(request: HtmxHttpRequest, registry: Registry) -> HttpResponse:
    """A no-JavaScript create or reset: the tab answers, the new password in a link."""
    reset = request.POST.get("reset")
    if reset is None:
        refusal = LongTermCredential.objects.refusal_for(request.user)
        if refusal is not None:
            return _create_refused(request, registry, refusal, status=403)
        return _create(request, registry)
    credential = _get_credential(request, registry, reset)
    if _reset_sent_again(request, credential):
        messages.warning(
            request,
            _(
                "The password of “%(name)s” was already reset with this form, so nothing "
                "changed: its password is in the file you downloaded then. To get another, "
                "use Reset Password again."
            )
            % {"name": credential.name},
        )
        return _render_long_term(request, registry, status=409)
    return _reset(request, registry, credential)


def _reset_sent_again(request: HttpRequest, credential: LongTermCredential) -> bool:
    """Whether this no-JavaScript reset form was answered before (a reload of its answer):
    the form carries the last reset it saw, and the credential has been reset since."""
    seen = request.POST.get("reset_since")
    last = credential.password_reset_at.isoformat() if credential.password_reset_at else ""
    return seen is not None and seen != last


def _create(request: HtmxHttpRequest, registry: Registry) -> HttpResponse:
    dialog = _create_form(request, registry, request.POST)
    form = dialog["form"]
    if not form.is_valid():
        return _create_refused(request, registry, **dialog)
    try:
        credential, password = LongTermCredential.objects.create_for(
            owner=request.user,
            registry=registry,
            name=form.cleaned_data["name"],
            by=Actor.from_request(request),
            expires_at=form.expires_at(timezone.now()),
            **form.narrowing(),
        )
    except ConsoleError as exc:
        field = {ExpiryRefused: "validity", NarrowingRefused: "organizations"}.get(type(exc))
        form.add_error(field or "name", str(exc))
        return _create_refused(request, registry, **dialog)
    logger.info("long-term credential created: %s", credential.public_id)
    return _password_answer(
        request,
        registry,
        credential,
        password,
        to_download=_(
            "Credential “%(name)s” is created. Download %(file)s now: it holds the password, "
            "which is not shown again."
        ),
        downloaded=_(
            "Credential “%(name)s” is created. Its password is in the file %(file)s that has "
            "just downloaded: keep it safe, it is not shown again."
        ),
    )


def _password_answer(
    request: HtmxHttpRequest,
    registry: Registry,
    credential: LongTermCredential,
    password: str,
    *,
    to_download: str,
    downloaded: str,
) -> HttpResponse:
    """A new password's one response (secret_answer): the tab with the file in a link, or
    the file itself."""
    names = {"name": credential.name, "file": f"{credential.name}.csv"}
    return secret_answer(
        request,
        csv=login_formats.long_term_csv(credential, password),
        filename=names["file"],
        page_url_name="long_term_tab",
        page=lambda link: _render_long_term(request, registry, download=link),
        to_download=to_download % names,
        downloaded=downloaded % names,
        changed=CREDENTIALS_CHANGED,
    )


def _create_refused(
    request: HtmxHttpRequest,
    registry: Registry,
    refusal: str = "",
    *,
    form: CreateLongTermCredentialForm | None = None,
    can_narrow: bool = False,
    status: int = 422,
) -> HttpResponse:
    """The dialog again, with what was wrong; nothing was created."""
    # A POST comes from the form inside the open dialog: htmx gets the form; a GET opens it.
    partial = "create-form" if request.method == "POST" else ""
    form = form or CreateLongTermCredentialForm()
    return _dialog(
        request,
        registry,
        "create",
        partial=partial,
        status=status,
        form=form,
        refusal=refusal,
        can_narrow=can_narrow,
    )


@login_required
@require_POST
@_own_credential
def enable_long_term(
    request: HtmxHttpRequest, registry: Registry, credential: LongTermCredential
) -> HttpResponse:
    return _set_status(request, registry, credential, enabled=True)


@_confirmed_action
def disable_long_term(
    request: HtmxHttpRequest, registry: Registry, credential: LongTermCredential
) -> HttpResponse:
    if request.method == "GET":
        list_query = ListQuery.from_params(request.GET)
        return _dialog(request, registry, "disable", credential=credential, list=list_query)
    return _set_status(request, registry, credential, enabled=False)


def _set_status(
    request: HtmxHttpRequest, registry: Registry, credential: LongTermCredential, *, enabled: bool
) -> HttpResponse:
    """Enable or disable: htmx gets the updated row (and the dialog that asked, closed). An
    expired credential cannot be enabled: the row (409) or the tab says why."""
    change = credential.enable if enabled else credential.disable
    refused = False
    try:
        change(by=Actor.from_request(request))
    except ConsoleError as exc:  # expired
        refused, message = True, str(exc)
    else:
        message = (
            _("Credential “%(name)s” is enabled.")
            if enabled
            else _("Credential “%(name)s” is disabled.")
        ) % {"name": credential.name}
    if request.htmx:
        context = {
            "registry": registry,
            "credential": credential,
            "row_error": refused and message,
            "list": ListQuery.from_params(request.POST),
        }
        status = 409 if refused else 200
        response = render(request, f"{ACCESS_TEMPLATE}#row-changed", context, status=status)
        return announce(response, message, "error" if refused else "success")
    (messages.error if refused else messages.success)(request, message)
    return redirect(_tab_url(registry, request))


@_confirmed_action
def delete_long_term(
    request: HtmxHttpRequest, registry: Registry, credential: LongTermCredential
) -> HttpResponse:
    if request.method == "GET":
        return _dialog(request, registry, "delete", credential=credential)

    name = credential.name
    credential.delete_by(by=Actor.from_request(request))
    deleted = _("Credential “%(name)s” is deleted.") % {"name": name}
    if request.htmx:
        response = announce(HttpResponse(""), deleted)
        return trigger_client_event(response, CREDENTIALS_CHANGED)
    messages.success(request, deleted)
    return redirect(_tab_url(registry, request))


@_confirmed_action
def reset_long_term(
    request: HtmxHttpRequest, registry: Registry, credential: LongTermCredential
) -> HttpResponse:
    """Reset Password: GET asks for confirmation, POST answers with the new password's CSV."""
    if request.method == "POST":
        return _reset(request, registry, credential)
    return _reset_dialog(request, registry, credential)


def _reset(
    request: HtmxHttpRequest, registry: Registry, credential: LongTermCredential
) -> HttpResponse:
    try:
        password = credential.reset_password(by=Actor.from_request(request))
    except ConsoleError as exc:  # expired
        return _reset_dialog(request, registry, credential, refusal=str(exc))
    logger.info("long-term credential password reset: %s", credential.public_id)
    return _password_answer(
        request,
        registry,
        credential,
        password,
        to_download=_(
            "Credential “%(name)s” has a new password. Download %(file)s now: it holds the "
            "password, which is not shown again."
        ),
        downloaded=_(
            "Credential “%(name)s” has a new password. It is in the file %(file)s that has just "
            "downloaded: keep it safe, it is not shown again."
        ),
    )


def _reset_dialog(
    request: HtmxHttpRequest,
    registry: Registry,
    credential: LongTermCredential,
    refusal: str = "",
) -> HttpResponse:
    return _dialog(
        request,
        registry,
        "reset",
        status=409 if refusal else 200,
        credential=credential,
        refusal=refusal,
        grace_hours=settings.ROTATION_GRACE_HOURS,
    )
