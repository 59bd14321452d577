"""My Credentials › Access Keys: the page where a user creates the AK/SK that Huawei's SDKs sign
with, as on Huawei Cloud. Works as plain pages and forms, and as htmx fragments."""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from credentials import login_formats
from credentials.console.views.base import announce, secret_answer
from credentials.models import AccessKey, Actor, ConsoleError
from credentials.models.access_keys import FEDERATED_ACCESS_KEY_MESSAGE

logger = logging.getLogger(__name__)

TEMPLATE = "credentials/access_keys.html"
ACCESS_KEYS_CHANGED = "accessKeysChanged"


def _get_key_for_user(request: HttpRequest, key_id: uuid.UUID) -> AccessKey:
    """The signed-in user's access key; anyone else's is a 404."""
    return get_object_or_404(AccessKey.objects.for_user(request.user), public_id=key_id)


def _context(request: HttpRequest, **extra: object) -> dict[str, object]:
    return {
        "keys": list(AccessKey.objects.for_user(request.user)),
        "can_create": not request.user.is_federated,
        "federated_message": FEDERATED_ACCESS_KEY_MESSAGE,
        "key_limit": settings.ACCESS_KEYS_PER_USER,
        **extra,
    }


@login_required
@require_GET
def my_credentials(request: HttpRequest) -> HttpResponse:
    return redirect("access_keys")


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def access_keys(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        # The create form posts here without JavaScript: the browser ends on the list, the
        # new key's file in a link (docs/DECISIONS.md).
        return _create(request)
    if request.htmx and not request.htmx.boosted:
        return render(request, f"{TEMPLATE}#key-table", _context(request))
    return render(request, TEMPLATE, _context(request))


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def create_access_key(request: HttpRequest) -> HttpResponse:
    refusal = AccessKey.objects.refusal_for(request.user)
    if refusal is not None:
        return _create_refused(request, refusal, status=403)
    if request.method == "GET":
        if request.htmx:
            return render(request, f"{TEMPLATE}#create-dialog", {})
        return render(request, TEMPLATE, _context(request, dialog="create"))
    return _create(request)


def _create(request: HttpRequest) -> HttpResponse:
    refusal = AccessKey.objects.refusal_for(request.user)
    if refusal is not None:
        return _create_refused(request, refusal, status=403)
    try:
        key, secret_key = AccessKey.objects.create_for(
            user=request.user, by=Actor.from_request(request)
        )
    except ConsoleError as exc:
        return _create_refused(request, str(exc), status=422)
    logger.info("access key created: %s", key.public_id)
    names = {"key": key.access_key_id}
    return secret_answer(
        request,
        csv=login_formats.access_key_csv(request.user.get_username(), key, secret_key),
        filename="credentials.csv",
        page_url_name="access_keys",
        page=lambda link: render(request, TEMPLATE, _context(request, download=link)),
        to_download=_(
            "Access key %(key)s is created. Download credentials.csv now: it holds the secret "
            "access key, which is not shown again."
        )
        % names,
        downloaded=_(
            "Access key %(key)s is created. Its secret access key is in the file credentials.csv "
            "that has just downloaded: keep it safe, it is not shown again."
        )
        % names,
        changed=ACCESS_KEYS_CHANGED,
    )


def _create_refused(request: HttpRequest, refusal: str, *, status: int) -> HttpResponse:
    """The dialog again, saying why; nothing was created."""
    if request.htmx:
        return render(request, f"{TEMPLATE}#create-dialog", {"refusal": refusal}, status=status)
    context = _context(request, dialog="create", refusal=refusal)
    return render(request, TEMPLATE, context, status=status)


def _after_change(request: HttpRequest, key: AccessKey, message: str) -> HttpResponse:
    if request.htmx:
        # The row's new state; the dialog that asked (Disable) closes.
        return announce(render(request, f"{TEMPLATE}#row-changed", {"key": key}), message)
    messages.success(request, message)
    return redirect("access_keys")


@login_required
@require_POST
def enable_access_key(request: HttpRequest, key_id: uuid.UUID) -> HttpResponse:
    key = _get_key_for_user(request, key_id)
    key.enable(by=Actor.from_request(request))
    return _after_change(
        request, key, _("Access key %(key)s is enabled.") % {"key": key.access_key_id}
    )


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def disable_access_key(request: HttpRequest, key_id: uuid.UUID) -> HttpResponse:
    """GET asks first (its dialog); POST disables."""
    key = _get_key_for_user(request, key_id)
    if request.method == "GET":
        return _ask_first(request, key, "disable")
    key.disable(by=Actor.from_request(request))
    message = _("Access key %(key)s is disabled.") % {"key": key.access_key_id}
    return _after_change(request, key, message)


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def delete_access_key(request: HttpRequest, key_id: uuid.UUID) -> HttpResponse:
    key = _get_key_for_user(request, key_id)
    if request.method == "GET":
        return _ask_first(request, key, "delete")
    key.delete_by(by=Actor.from_request(request))
    deleted = _("Access key %(key)s is deleted.") % {"key": key.access_key_id}
    if request.htmx:
        return trigger_client_event(announce(HttpResponse(""), deleted), ACCESS_KEYS_CHANGED)
    messages.success(request, deleted)
    return redirect("access_keys")


def _ask_first(request: HttpRequest, key: AccessKey, dialog: str) -> HttpResponse:
    """The dialog that asks before `dialog` (disable, delete): the fragment for htmx, else the
    page with it open."""
    if request.htmx:
        return render(request, f"{TEMPLATE}#{dialog}-dialog", {"key": key})
    return render(request, TEMPLATE, _context(request, dialog=dialog, key=key))
