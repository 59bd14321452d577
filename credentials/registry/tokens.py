"""The token itself: an ES256 JWT signed with the current key, and the JSON answer that
carries it (never stored by a cache)."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime
from typing import Any

import jwt
from django.conf import settings
from django.http import JsonResponse

from credentials.registry.keys import current_signing_key
from credentials.timestamps import utc_iso

# Every 401 names the realm, whichever flow refused.
WWW_AUTHENTICATE = 'Basic realm="SWR Console registry token service"'


def issue_token(subject: str, service: str, access: list[dict]) -> dict[str, Any]:
    key = current_signing_key()
    now = datetime.now(UTC)
    ttl = settings.REGISTRY_TOKEN_TTL
    claims = {
        "iss": settings.REGISTRY_TOKEN_ISSUER,
        "sub": subject,
        "aud": service,
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()) - 5,
        "exp": int(now.timestamp()) + ttl,
        "jti": secrets.token_urlsafe(16),
        "access": access,
    }
    headers = {"kid": key.kid, "x5c": [base64.b64encode(key.certificate_der).decode()]}
    token = jwt.encode(claims, key.private_key, algorithm="ES256", headers=headers)
    return {
        "token": token,
        "access_token": token,
        "expires_in": ttl,
        "issued_at": utc_iso(now),
    }


def registry_error(status: int, code: str, message: str) -> JsonResponse:
    """An error of the GET flow (and of any method but POST), in the registry's own shape:
    Distribution's `errors` list, which docker and the other registry clients read. Codes are
    Harbor's where Distribution has none (`BAD_REQUEST`, `METHOD_NOT_ALLOWED`)."""
    return token_response({"errors": [{"code": code, "message": message}]}, status=status)


def oauth_error(status: int, code: str, description: str) -> JsonResponse:
    """An error of the OAuth2 POST flow, in RFC 6749's shape (5.2)."""
    return token_response({"error": code, "error_description": description}, status=status)


def token_response(body: dict[str, Any], status: int = 200) -> JsonResponse:
    # As RFC 6749 (5.1) asks of any answer that carries a token: never stored by a cache.
    response = JsonResponse(body, status=status)
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response
