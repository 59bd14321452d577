"""The frame around the console: sign-in (throttled), the language switch, the health check,
the benchmarks' baseline and the favicon redirect."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.utils.translation import get_language, gettext_lazy
from django.views import i18n
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from credentials.models import Actor, AuditEvent
from credentials.throttling import failures_exceeded, note_throttled

SIGN_IN_THROTTLED = gettext_lazy(
    "Too many failed sign-in attempts for this account or from this address. "
    "Wait a few minutes and try again."
)


class ConsoleLoginView(auth_views.LoginView):
    """Django's sign-in page, refusing with a clear message once failures pile up."""

    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        username = request.POST.get("username", "")
        if failures_exceeded(request, "sign-in", username):
            actor = Actor.from_request(request)
            note_throttled(
                request,
                "sign-in",
                lambda detail: AuditEvent.record(
                    AuditEvent.Action.SIGN_IN_FAILED,
                    Actor(None, actor.ip_address, actor.user_agent, username[:150]),
                    path=request.path,
                    **detail,
                ),
            )
            form = self.get_form_class()(request)
            context = self.get_context_data(form=form, throttled=SIGN_IN_THROTTLED)
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        # The language the sign-in page was read in (the switch's cookie, else the browser's):
        # the user's e-mails go out in it.
        self.request.user.remember_language(get_language())
        return response


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch (a cookie); a signed-in user's choice is also the language of
    their e-mails."""
    response = i18n.set_language(request)
    if request.user.is_authenticated:
        request.user.remember_language(request.POST.get(i18n.LANGUAGE_QUERY_PARAMETER, ""))
    return response


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "up"})


@require_GET
def ping(request: HttpRequest) -> HttpResponse:
    # The smallest page the stack can serve: the benchmarks' baseline.
    return HttpResponse("pong", content_type="text/plain")


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    # Browsers ask for /favicon.ico on pages (the admin's) that do not name one.
    return redirect(static("favicon.svg"))
