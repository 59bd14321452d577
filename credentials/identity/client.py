"""The console's client of its OpenID provider: Authlib's Django client (discovery from
<issuer>/.well-known/openid-configuration; the authorization code flow with PKCE S256, state
and nonce; the ID token's signature, issuer, audience, expiry and nonce checked), and what
each failure is called in the audit trail and on the refusal page."""

from __future__ import annotations

import functools
from typing import Any

import requests
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.django_client import DjangoOAuth2App, OAuth
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    DecodeError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
)

TIMEOUT_SECONDS = 10
# A claim the ID token failed on, to the refusal reason it is audited with.
CLAIM_REASONS = {
    "iss": "issuer",
    "aud": "audience",
    "azp": "audience",
    "nonce": "nonce",
    "exp": "expiry",
    "iat": "expiry",
    "nbf": "expiry",
    "sub": "subject",
}


class Refused(Exception):
    """A sign-in (or a renewal) the console refuses: `reason` is audited, `status` answered."""

    def __init__(self, reason: str, status: int = 403, **detail: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.detail = detail


@functools.cache
def provider() -> DjangoOAuth2App:
    """Authlib's client for settings.OIDC, its discovery document fetched on first use (and
    again after a failure: nothing is kept until it answers)."""
    oidc = settings.OIDC
    registry = OAuth()
    return registry.register(
        name="oidc",
        client_id=oidc.client_id,
        client_secret=oidc.client_secret or None,
        server_metadata_url=f"{oidc.issuer}/.well-known/openid-configuration",
        client_kwargs={
            "scope": " ".join(oidc.scopes),
            "code_challenge_method": "S256",
            "default_timeout": TIMEOUT_SECONDS,
            "token_endpoint_auth_method": ("client_secret_basic" if oidc.client_secret else "none"),
        },
    )


@receiver(setting_changed)
def _forget_provider(setting: str, **kwargs: Any) -> None:
    if setting == "OIDC":
        provider.cache_clear()


def metadata() -> dict[str, Any]:
    """The provider's discovery document; Refused("unreachable") if it cannot be had, or if it
    names another issuer than OIDC_ISSUER."""
    try:
        document = provider().load_server_metadata()
    except (requests.RequestException, ValueError) as exc:
        provider().server_metadata.clear()
        raise Refused("unreachable", 503, error=type(exc).__name__) from None
    if document.get("issuer", "").rstrip("/") != settings.OIDC.issuer:
        provider().server_metadata.clear()
        raise Refused("issuer", 502, error="discovery names another issuer")
    return document


def reason_for(exc: Exception) -> Refused:
    """What a failure of the code flow or of a refresh is called (never the token itself)."""
    if isinstance(exc, Refused):
        return exc
    if isinstance(exc, MismatchingStateError):
        return Refused("state")
    if isinstance(exc, ExpiredTokenError):
        return Refused("expiry")
    if isinstance(exc, ClaimError):
        claim = getattr(exc, "claim", "")
        return Refused(CLAIM_REASONS.get(claim, "claims"), claim=claim)
    if isinstance(exc, BadSignatureError | InvalidKeyIdError | DecodeError | JoseError):
        return Refused("signature", error=type(exc).__name__)
    if isinstance(exc, OAuthError):
        return Refused("provider", error=str(exc.error or "")[:64])
    if isinstance(exc, requests.RequestException):
        return Refused("unreachable", 503, error=type(exc).__name__)
    if isinstance(exc, ValueError | KeyError | TypeError):  # a malformed answer
        return Refused("provider", 502, error=type(exc).__name__)
    raise exc


def refresh(refresh_token: str) -> dict[str, Any]:
    """A refresh grant: the provider's new tokens, the ID token (if any) checked as at sign-in
    (its claims under "userinfo"). Refused("provider") when the provider no longer accepts
    the token (invalid_grant: the user removed, disabled or signed out there)."""
    metadata()
    app = provider()
    try:
        token = app.fetch_access_token(grant_type="refresh_token", refresh_token=refresh_token)
        if "id_token" in token:
            token["userinfo"] = app.parse_id_token(token, nonce=None)
    except Exception as exc:
        raise reason_for(exc) from None
    return token
