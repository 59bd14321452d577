"""The frame around the console: sign-in (throttled), the change-password page, the language
switch, the health check, the benchmarks' baseline and the favicon redirect."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import Resolver404, resolve, reverse_lazy
from django.utils.translation import get_language, gettext, gettext_lazy
from django.views import i18n
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from credentials.identity.views import login_context
from credentials.middleware import health_answer
from credentials.models import Actor, AuditEvent

SIGN_IN_THROTTLED = gettext_lazy(
    "Too many failed sign-in attempts for this account or from this address. "
    "Wait a few minutes and try again."
)


class ConsoleLoginView(auth_views.LoginView):
    """Django's sign-in page, refusing with a clear message once failures pile up. The limit
    is checked in one place, the password backend (security/auth.py), for this page, the
    admin's and the built-in IAM API alike; the refusal is audited by the failure signal."""

    redirect_authenticated_user = True
    local = False  # the break-glass address: the password form even with LOCAL_LOGIN=false

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {
            **super().get_context_data(**kwargs),
            **login_context(self.request, local=self.local),
        }

    def form_invalid(self, form: Any) -> HttpResponse:
        if not getattr(self.request, "swr_throttled", False):
            return super().form_invalid(form)
        fresh = self.get_form_class()(self.request)
        context = self.get_context_data(form=fresh, throttled=SIGN_IN_THROTTLED)
        return self.render_to_response(context, status=429)

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        # The language the sign-in page was read in (the switch's cookie, else the browser's):
        # the user's e-mails go out in it.
        self.request.user.remember_language(get_language())
        return response


class _PasswordChangeForm(PasswordChangeForm):
    """Django's form, its old password checked through authenticate() as a sign-in is: the
    same failure limits, each failure counted and audited (credentials/signals.py). Django's
    own check (check_password) would let a session guess the password without limit."""

    request: HttpRequest | None = None

    def clean_old_password(self) -> str:
        old = self.cleaned_data["old_password"]
        user = authenticate(self.request, username=self.user.get_username(), password=old)
        if user is None or user.pk != self.user.pk:
            if getattr(self.request, "swr_throttled", False):
                raise ValidationError(SIGN_IN_THROTTLED, code="throttled")
            raise ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            )
        return old


class ConsolePasswordChangeView(auth_views.PasswordChangeView):
    """Django's change-password page for an account with a password of its own here; the
    session that changed it stays signed in (Django's update_session_auth_hash), every other
    one ends. Audited; wrong old passwords count as failed sign-ins."""

    form_class = _PasswordChangeForm
    success_url = reverse_lazy("password_change_done")

    def get_form(self, form_class: Any = None) -> _PasswordChangeForm:
        form = super().get_form(form_class)
        form.request = self.request
        return form

    def form_invalid(self, form: Any) -> HttpResponse:
        response = super().form_invalid(form)
        if form.has_error("old_password", code="throttled"):
            response.status_code = 429
        return response

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if user.is_authenticated and not can_change_password(user):
            context = {"no_local_password": True}
            return self.response_class(request, self.template_name, context, status=403)
        return super().dispatch(request, *args, **kwargs)

    @transaction.atomic
    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        AuditEvent.record(
            AuditEvent.Action.PASSWORD_CHANGED,
            Actor.from_request(self.request),
            path=self.request.path,
        )
        messages.success(self.request, gettext("Your password is changed."))
        return response


def can_change_password(user: Any) -> bool:
    """A user signed in with a password of their own here; not one from single sign-on."""
    return user.has_usable_password() and not user.is_federated


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch (a cookie); a signed-in user's choice is also the language of
    their e-mails. It returns to a page: `next` if that answers GET, else the page that owns it
    (a result page's POST-only URL: its tab), else home."""
    response = i18n.set_language(request)
    if request.user.is_authenticated:
        request.user.remember_language(request.POST.get(i18n.LANGUAGE_QUERY_PARAMETER, ""))
    # `next`, or without one Django's fallback, the Referer: an absolute URL of this host.
    location = urlsplit(response.get("Location", ""))
    local = location.path.startswith("/") and not location.path.startswith("//")
    if local and location.netloc in ("", request.get_host()):
        response["Location"] = page_for(urlunsplit(("", "", *location[2:])))
    return response


def page_for(url: str) -> str:
    """`url` (a local path) if its view answers GET; else the nearest path above it whose view
    does, without the query; else home."""
    path = urlsplit(url).path
    candidate = path
    while candidate not in ("", "/"):
        try:
            view = resolve(candidate).func
        except Resolver404:
            view = None
        if view is not None and _answers_get(view):
            return url if candidate == path else candidate
        candidate = candidate.rstrip("/").rpartition("/")[0] + "/"
    return "/"


def _answers_get(view: Callable[..., Any]) -> bool:
    """What the view's require_http_methods (or a class-based view's methods) allow."""
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        return "get" in view_class.http_method_names and hasattr(view_class, "get")
    layer: Any = view
    while layer is not None:
        try:
            allowed = inspect.getclosurevars(layer).nonlocals.get("request_method_list")
        except TypeError:  # not a Python function (a partial, a builtin)
            return True
        if allowed is not None:
            return "GET" in allowed
        layer = getattr(layer, "__wrapped__", None)
    return True


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    # credentials.middleware.HealthCheckMiddleware answers GET and HEAD before the host check;
    # another method reaches this view and is refused (405).
    return health_answer()


@require_GET
def ping(request: HttpRequest) -> HttpResponse:
    # The smallest page the stack can serve: the benchmarks' baseline.
    return HttpResponse("pong", content_type="text/plain")


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    # Browsers ask for /favicon.ico on pages (the admin's) that do not name one.
    return redirect(static("favicon.svg"))
