"""Sign-in with the OpenID provider: the redirect there, the callback, sign-out there too, and
the break-glass password page. Every refusal is a page in the reader's language, audited
with its reason; nothing is changed by one."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, gettext, gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from credentials.identity import client, federation
from credentials.identity.client import Refused
from credentials.models import Actor, AuditEvent, FederatedIdentity

BACKEND = "credentials.security.auth.OidcBackend"
SESSION_KEY = "oidc_checked_at"  # the session came from the provider; when it was last asked
NEXT_KEY = "oidc_next"

# What the refusal page says, by reason (the audit trail keeps the reason itself).
MESSAGES = {
    "unreachable": gettext_lazy(
        "The identity provider cannot be reached. Try again in a few minutes; if it keeps "
        "happening, tell your administrator."
    ),
    "state": gettext_lazy(
        "This sign-in link has expired or was already used. Start the sign-in again."
    ),
    "nonce": gettext_lazy(
        "The identity provider's answer does not belong to this sign-in (its nonce differs). "
        "Start the sign-in again."
    ),
    "issuer": gettext_lazy(
        "The identity provider's answer comes from another issuer than the one configured."
    ),
    "audience": gettext_lazy("The identity provider's answer was issued for another client."),
    "expiry": gettext_lazy("The identity provider's answer has expired. Start the sign-in again."),
    "signature": gettext_lazy(
        "The identity provider's answer is not signed by one of its published keys."
    ),
    "claims": gettext_lazy("The identity provider's answer is missing a required claim."),
    "subject": gettext_lazy("The identity provider's answer does not name the user (no sub)."),
    "groups": gettext_lazy("The identity provider's groups claim is not a list of group names."),
    "groups_too_many": gettext_lazy(
        "The identity provider lists more groups for you than the console accepts (%(limit)s)."
    ),
    "inactive": gettext_lazy(
        "Your console account is deactivated. Ask an administrator to reactivate it."
    ),
    "provider": gettext_lazy(
        "The identity provider refused the sign-in. Start it again; if it keeps happening, "
        "tell your administrator."
    ),
    "disabled": gettext_lazy("Sign-in with an identity provider is not set up here."),
}


def refusal_page(request: HttpRequest, refused: Refused) -> HttpResponse:
    """The refusal, audited with its reason (never a token), as a page."""
    AuditEvent.record(
        AuditEvent.Action.OIDC_SIGN_IN_REFUSED,
        Actor.from_request(request),
        reason=refused.reason,
        path=request.path,
        **refused.detail,
    )
    message = MESSAGES.get(refused.reason, MESSAGES["provider"])
    context = {"message": str(message) % {"limit": federation.MAX_GROUPS}, "reason": refused.reason}
    return render(request, "identity/refused.html", context, status=refused.status)


@require_GET
@never_cache
def start(request: HttpRequest) -> HttpResponse:
    """To the provider's sign-in page (state, nonce and the PKCE verifier in the session)."""
    if not settings.OIDC.enabled:
        raise Http404
    try:
        client.metadata()
        next_url = request.GET.get("next", "")
        if next_url and url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
            request.session[NEXT_KEY] = next_url
        redirect_uri = request.build_absolute_uri(reverse("oidc_callback"))
        language = {"zh-hans": "zh-CN"}.get(get_language(), "en")
        return client.provider().authorize_redirect(request, redirect_uri, ui_locales=language)
    except Exception as exc:
        return refusal_page(request, client.reason_for(exc))


@require_GET
@never_cache
def callback(request: HttpRequest) -> HttpResponse:
    """The provider's answer: the code exchanged (PKCE), the ID token checked (signature,
    issuer, audience, expiry, nonce), then the user signed in."""
    if not settings.OIDC.enabled:
        raise Http404
    try:
        client.metadata()
        token = client.provider().authorize_access_token(request)
        claims = token.get("userinfo")
        if claims is None:
            raise Refused("claims")
        signed_in = federation.sign_in(dict(claims), token, Actor.from_request(request))
    except Exception as exc:
        return refusal_page(request, client.reason_for(exc))
    next_url = request.session.pop(NEXT_KEY, "")
    request.swr_sign_in_detail = {  # type: ignore[attr-defined] - the sign-in event's detail
        "method": "oidc",
        "issuer": signed_in.identity.issuer,
        "subject": signed_in.identity.subject,
        "created": signed_in.created,
    }
    login(request, signed_in.user, backend=BACKEND)
    request.session[SESSION_KEY] = signed_in.identity.checked_at.timestamp()
    signed_in.user.remember_language(get_language())
    if signed_in.wanted_username:
        messages.info(
            request,
            gettext(
                "The username %(wanted)s belongs to another account here, so yours is %(username)s."
            )
            % {"wanted": signed_in.wanted_username, "username": signed_in.user.username},
        )
    return redirect(next_url or settings.LOGIN_REDIRECT_URL)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    """Sign out here; a session from the provider is also ended there when it offers an
    end_session_endpoint (RP-initiated logout), returning to the sign-in page."""
    from_provider = request.session.get(SESSION_KEY) is not None and settings.OIDC.enabled
    user = request.user if request.user.is_authenticated else None
    logout(request)
    if not from_provider or user is None:
        return redirect(settings.LOGOUT_REDIRECT_URL)
    identity = FederatedIdentity.objects.filter(user=user).first()
    try:
        endpoint = client.metadata().get("end_session_endpoint")
    except Refused:
        endpoint = None
    if not endpoint or identity is None:
        return redirect(settings.LOGOUT_REDIRECT_URL)
    return client.provider().logout_redirect(
        request,
        post_logout_redirect_uri=request.build_absolute_uri(reverse("login")),
        id_token_hint=identity.id_token or None,
    )


def login_context(request: HttpRequest, *, local: bool = False) -> dict[str, Any]:
    """What the sign-in page shows: the provider's button, and the password form unless
    LOCAL_LOGIN=false (then only at the break-glass address)."""
    return {
        "oidc_name": settings.OIDC.provider_name if settings.OIDC.enabled else "",
        "password_form": settings.LOCAL_LOGIN or local,
        "break_glass": local and not settings.LOCAL_LOGIN,
    }
