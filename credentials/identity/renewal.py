"""The provider asked again about a signed-in user every OIDC_RENEW_SECONDS while their
session is used (the refresh grant). A user it no longer accepts (removed, disabled, signed
out there: `invalid_grant`) is signed out and made inactive, which also ends their temporary
credentials at the registry; their groups and roles follow a refreshed ID token. When the
provider cannot be asked (unreachable, no refresh token, an answer that does not verify), the
session ends (nobody can vouch for it; a new sign-in settles it) and the user stays."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django_htmx.http import HttpResponseClientRedirect

from credentials.identity import client, federation
from credentials.identity.client import Refused
from credentials.identity.views import SESSION_KEY
from credentials.models import Actor, AuditEvent, FederatedIdentity, User

NO_LONGER_ACCEPTED = gettext_lazy(
    "Your identity provider no longer accepts your account, so you are signed out and your "
    "console account is deactivated."
)
NOT_CHECKED = gettext_lazy(
    "Your sign-in could not be confirmed with your identity provider. Sign in again."
)


def renew(identity: FederatedIdentity, actor: Actor) -> str:
    """Ask the provider about the identity's user, if nobody has for OIDC_RENEW_SECONDS:
    "accepted", "rejected" (the user is now inactive) or "unchecked" (the provider could not
    be asked). One renewal at a time per user (the row is locked: a refresh token is used
    once)."""
    due = timezone.now() - timedelta(seconds=settings.OIDC.renew_seconds)
    with transaction.atomic():
        identity = (
            FederatedIdentity.objects.select_for_update().select_related("user").get(pk=identity.pk)
        )
        if identity.checked_at is not None and identity.checked_at > due:
            return "accepted"
        user = identity.user
        actor = replace(actor, user=user)
        refresh_token = identity.refresh_token
        try:
            if not refresh_token:  # the provider gave none: ask the user to sign in again
                return "unchecked"
            token = client.refresh(refresh_token)
            claims = token.get("userinfo")
            if claims is not None:
                if claims.get("sub") != identity.subject:
                    raise Refused("subject")
                problem = federation.claims_problem(claims)
                if problem is not None:
                    raise problem
                if settings.OIDC.groups_claim in claims:  # some providers omit it on refresh
                    federation.apply_groups(user, claims[settings.OIDC.groups_claim], actor)
            federation.keep_tokens(identity, token)
            return "accepted"
        except Refused as refused:
            # Only the provider's own no (invalid_grant: removed, disabled, signed out there)
            # deactivates; anything else (unreachable, a token that does not verify) only ends
            # the session, which a new sign-in settles.
            if refused.detail.get("error") != "invalid_grant":
                return "unchecked"
            user.is_active = False
            user.save(update_fields=["is_active"])
            AuditEvent.record(
                AuditEvent.Action.OIDC_USER_DEACTIVATED,
                actor,
                username=user.username,
                reason=refused.reason,
                **refused.detail,
            )
            return "rejected"


def still_accepted(user_id: int | None, long_term_id: int | None) -> bool:
    """For the token service: whether a credential's owner may still be served. A user from
    the provider whom nobody asked it about for OIDC_RENEW_SECONDS is asked now (renew()), so
    one removed there loses the registry within that time whether or not they use the console;
    while the provider cannot be reached, their credentials keep working. A long-term
    credential's owner is never federated (its lookup, login_allowed_sql, refuses them), so
    only a temporary credential's owner is looked up: nothing without a provider or for a
    long-term credential, one indexed lookup for a temporary one."""
    if not settings.OIDC.enabled or user_id is None or long_term_id is not None:
        return True
    due = timezone.now() - timedelta(seconds=settings.OIDC.renew_seconds)
    identity = FederatedIdentity.objects.filter(user_id=user_id, checked_at__lt=due).first()
    if identity is None:
        return True
    actor = Actor(user=None, username="token service", channel=AuditEvent.Channel.SYSTEM)
    return renew(identity, actor) != "rejected"


def allow_sign_out_there(response: HttpResponse) -> HttpResponse:
    """The Sign out form's redirect goes on to the provider (RP-initiated logout): the page's
    Content-Security-Policy lets forms lead there (form-action also covers redirects)."""
    parts = urlsplit(settings.OIDC.issuer)
    update = getattr(response, "_csp_update", None) or {}
    update["form-action"] = [*update.get("form-action", []), f"{parts.scheme}://{parts.netloc}"]
    response._csp_update = update  # type: ignore[attr-defined] - django-csp's per-response update
    return response


class RenewalMiddleware:
    """For a session from the provider: renew() once OIDC_RENEW_SECONDS have passed since the
    session last knew the user accepted (kept in the session, so a fresh one costs nothing)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Without a provider or a session cookie, the session is not even read (Vary: Cookie).
        if not settings.OIDC.enabled or settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return self.get_response(request)
        checked = request.session.get(SESSION_KEY)
        if checked is None:
            return self.get_response(request)
        user = request.user
        if not user.is_authenticated:
            return self.get_response(request)
        now = timezone.now().timestamp()
        if now - checked < settings.OIDC.renew_seconds:
            return allow_sign_out_there(self.get_response(request))
        identity = FederatedIdentity.objects.filter(user=user).first()
        outcome = "unchecked" if identity is None else renew(identity, Actor.from_request(request))
        if outcome == "accepted":
            identity.refresh_from_db(fields=["checked_at"])
            request.session[SESSION_KEY] = identity.checked_at.timestamp()
            request.user = User.objects.get(pk=user.pk)  # roles may have changed
            return allow_sign_out_there(self.get_response(request))
        logout(request)
        messages.error(request, NO_LONGER_ACCEPTED if outcome == "rejected" else NOT_CHECKED)
        login_url = resolve_url(settings.LOGIN_URL)
        if request.headers.get("HX-Request") == "true":
            return HttpResponseClientRedirect(login_url)
        return redirect(login_url)
