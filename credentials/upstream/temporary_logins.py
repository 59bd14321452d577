"""Issue a temporary registry login for an actor in a registry: the Django-facing side of the
upstream.

Owns the upstream's wiring from settings (its token provider, kept per process and dropped when
an SWR_ setting changes; its timeouts), the choice between the built-in upstream and a remote
SWR, and the "issued" audit event either way. The rest of this package stays a plain HTTP
client that knows nothing of Django.
"""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.translation import gettext as _

from credentials import upstream
from credentials.models import Actor, AuditEvent, Registry, TemporaryCredential


@functools.cache
def token_provider() -> upstream.TokenProvider:
    # One per process, so IAM tokens are reused until they near their expiry.
    return upstream.TokenProvider(
        static_token=settings.SWR_AUTH_TOKEN,
        iam_url=settings.SWR_IAM_URL,
        domain=settings.SWR_IAM_DOMAIN,
        user=settings.SWR_IAM_USER,
        password=settings.SWR_IAM_PASSWORD,
        timeouts=timeouts(),
    )


@receiver(setting_changed)
def _forget_token_provider(setting: str, **kwargs: Any) -> None:
    if setting.startswith("SWR_"):
        token_provider.cache_clear()


def timeouts() -> upstream.Timeouts:
    return upstream.Timeouts(connect=settings.SWR_TIMEOUT_CONNECT, read=settings.SWR_TIMEOUT_READ)


def issue(*, registry: Registry, by: Actor, kind: str) -> upstream.TemporaryLogin:
    """A 24-hour login for `by.user`, audited as issued; UpstreamError if SWR fails.

    Built-in mode mints it here, stored together with its audit event. The built-in
    HTTP API serves the same credentials to other clients; calling it over HTTP from inside
    a worker would hold one thread waiting on another of the same pool.
    """
    if settings.SWR_BUILTIN_API:
        credential, password = TemporaryCredential.objects.issue(
            registry=registry, by=by, kind=kind
        )
        return upstream.TemporaryLogin(
            credential.username, password, registry.address, credential.expires_at
        )
    login = upstream.create_secret_with(
        token_provider(),
        api_url=settings.SWR_API_URL,
        project_name=registry.project_name,
        timeouts=timeouts(),
        prefer_host=registry.address,
    )
    AuditEvent.record(
        AuditEvent.Action.TEMPORARY_ISSUED,
        by,
        registry=registry,
        username=login.username,
        kind=kind,
        upstream=urlsplit(settings.SWR_API_URL).netloc,
        registry_host=login.host,
        expires_at=login.expires_at.isoformat(),
    )
    return login


def user_message(error: upstream.UpstreamError) -> str:
    """What went wrong, in the user's terms and language, with what to do next.

    The upstream's address and its exact answer are for the log (str(error)), never the page.
    """
    if error.reason in ("unreachable", "timeout", "unavailable"):
        message = _(
            "SWR could not be reached just now. Try again in a minute; if it keeps failing, "
            "tell your administrator: the console's log has the details."
        )
    elif error.reason == "busy":
        message = _("SWR is receiving too many requests right now. Wait a minute and try again.")
    elif error.reason == "not_allowed":
        message = _(
            "SWR did not accept the console's own account. Trying again will not help: "
            "tell your administrator, who can check the console's SWR settings."
        )
    elif error.reason == "refused":
        message = _(
            "SWR refused to issue the credential. Tell your administrator: the console's log "
            "has the details."
        )
    else:
        message = _(
            "SWR answered in a way the console does not understand. Try again in a minute; if "
            "it keeps failing, tell your administrator."
        )
    if error.code:  # Huawei's own error code helps their support; it reveals nothing internal
        message += " " + _("(SWR error code %(code)s)") % {"code": error.code}
    return message
