"""Registry › Access Credentials › Temporary Credentials: Generate, its result and the 24-hour
log. The same template as the long-term tab (views.base.ACCESS_TEMPLATE)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_ratelimit.core import is_ratelimited

from credentials import metrics, upstream
from credentials.console.forms import GenerateTemporaryCredentialForm
from credentials.console.issuance_log import Issued, issued_recently
from credentials.console.views.base import (
    ACCESS_TEMPLATE,
    HtmxHttpRequest,
    announce,
    get_registry,
    remember_region,
)
from credentials.models import Actor, Registry
from credentials.upstream import temporary_logins

logger = logging.getLogger(__name__)


def _temporary_context(
    request: HttpRequest, registry: Registry, *, log: bool = True, **extra: Any
) -> dict[str, Any]:
    """The temporary tab's context; `log=False` leaves out the log (and its query)."""
    return {
        "registry": registry,
        "issued": issued_recently(request.user, registry) if log else [],
        "section": "access-credentials",
        "tab": "temporary",
        "form": extra.pop("form", None) or GenerateTemporaryCredentialForm(),
        "per_minute": settings.TEMPORARY_CREDENTIALS_PER_MINUTE,
    } | extra


@login_required
@require_GET
@vary_on_headers("HX-Request")
def temporary_tab(request: HtmxHttpRequest, registry_id: uuid.UUID) -> HttpResponse:
    registry = get_registry(registry_id)
    remember_region(request, registry)
    context = _temporary_context(request, registry)
    if request.htmx and not request.htmx.boosted:
        return render(request, f"{ACCESS_TEMPLATE}#access-tabs", context)
    return render(request, ACCESS_TEMPLATE, context)


@login_required
@require_POST
def generate_temporary(request: HtmxHttpRequest, registry_id: uuid.UUID) -> HttpResponse:
    registry = get_registry(registry_id)
    form = GenerateTemporaryCredentialForm(request.POST)
    if not form.is_valid():
        return _temporary_result(request, registry, form=form, status=422)
    if is_ratelimited(
        request,
        group="temporary-credentials",
        key="user",
        rate=f"{settings.TEMPORARY_CREDENTIALS_PER_MINUTE}/m",
        increment=True,
    ):
        metrics.throttled("temporary-credentials")
        error = _(
            "You can generate at most %(limit)d temporary credentials a minute. "
            "Wait a moment and try again."
        ) % {"limit": settings.TEMPORARY_CREDENTIALS_PER_MINUTE}
        return _temporary_result(request, registry, form=form, error=error, status=429)

    kind = form.cleaned_data["kind"]
    try:
        login = temporary_logins.issue(registry=registry, by=Actor.from_request(request), kind=kind)
    except upstream.UpstreamError as exc:
        logger.warning("temporary credential not issued: %s", exc)
        error = temporary_logins.user_message(exc)
        return _temporary_result(request, registry, form=form, error=error, status=502)
    logger.info("temporary credential issued: %s (%s)", login.username, kind)
    response = _temporary_result(request, registry, form=form, login=login, kind=kind)
    response["Cache-Control"] = "no-store"
    return response


def _temporary_result(
    request: HtmxHttpRequest, registry: Registry, *, status: int = 200, **extra: Any
) -> HttpResponse:
    login: upstream.TemporaryLogin | None = extra.get("login")
    if login:
        extra["command"] = login.helm_command if extra["kind"] == "chart" else login.docker_command
        extra["secret_manifest"] = login.kubernetes_secret(f"swr-{slugify(registry.name)}-login")
        message = _generated_message(login, extra["kind"])
    else:
        # A refusal is said where the result would be (an alert there), not twice.
        message = ""
    if request.htmx:
        # The log below the result gains the new credential's row, swapped in out of band.
        if login:
            extra["log_entry"] = Issued.of(login, extra["kind"])
        context = _temporary_context(request, registry, log=False, **extra)
        response = render(request, f"{ACCESS_TEMPLATE}#temporary-result", context, status=status)
        return announce(response, message) if message else response
    if message:
        messages.success(request, message)
    context = _temporary_context(request, registry, **extra)
    remember_region(request, registry)
    return render(request, ACCESS_TEMPLATE, context, status=status)


def _generated_message(login: upstream.TemporaryLogin, kind: str) -> str:
    if kind == "chart":
        text = _("Temporary credential %(username)s is generated: its Helm login command is below.")
    else:
        text = _("Temporary credential %(username)s is generated: its login command is below.")
    return text % {"username": login.username}
