"""Who is calling the API: an IAM token (X-Auth-Token) or an access key's signature (AK/SK).

A refused request is answered with Huawei's 401 body and audited; once a client address or an
access key ID has been refused API_AUTH_FAILURES_PER_* times, further refusals from it are
still answered but no longer written to the trail, so a flood of bad requests cannot flood the
trail. Correctly signed requests are never held back by this: the limit cannot be turned
against a key's owner.

A signed write (any method but GET, HEAD, OPTIONS) is accepted once: its signature is kept in
the shared cache (Redis when configured, so every replica sees it) until its X-Sdk-Date plus
the allowed skew, the whole time the same request would pass the date check, and the same
signature again is refused. See docs/DECISIONS.md.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone

from credentials import registry_cache
from credentials.api import signing
from credentials.api.errors import ApiError, unauthorized
from credentials.models import (
    AccessKey,
    Actor,
    AuditEvent,
    User,
    looks_like_access_key_id,
    project_id_for,
    typed_username,
)
from credentials.security import throttling

API = "api"
# Methods that change nothing (RFC 9110 §9.2.1): a signed one may come again within its window.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
REPLAYED = (
    "This signed request was already received: each signed write is accepted once; sign it again"
)


def project_name_for(project_id: str) -> str | None:
    for registry in registry_cache.current().registries.values():
        if project_id_for(registry.project_name) == project_id:
            return registry.project_name
    return None


@dataclass(frozen=True)
class Caller:
    user: User
    # The project the caller named: the token's scope, or the signed X-Project-Id's project.
    project: str
    access_key: AccessKey | None = None

    def actor(self, request: HttpRequest) -> Actor:
        return replace(Actor.from_request(request), user=self.user, channel=API)


def authenticate(request: HttpRequest) -> Caller:
    """The caller of an API request, or ApiError(401) (audited, see the module doc)."""
    if signing.is_signed(request):
        return _by_signature(request)
    token = request.headers.get("X-Auth-Token", "")
    found = User.objects.for_iam_token(token) if token else None
    if found is None:
        reason = "invalid or expired X-Auth-Token" if token else "no X-Auth-Token or signature"
        raise _refused(request, reason)
    user, project = found
    return Caller(user=user, project=project)


def _by_signature(request: HttpRequest) -> Caller:
    access_key_id = ""
    try:
        authorization = signing.parse_authorization(request.headers["Authorization"])
        access_key_id = authorization.access_key_id
        signing.check_coverage(request, authorization)
        max_skew = timedelta(minutes=settings.API_SIGNATURE_MAX_SKEW_MINUTES)
        moment = signing.signed_at(request, timezone.now(), max_skew)
        key = AccessKey.objects.for_signature(access_key_id)
        secret_key = key.secret_key() if key is not None else None
        if key is None or secret_key is None:
            raise signing.SignatureError("Unknown access key")
        signing.verify(request, authorization, secret_key, moment)
    except signing.SignatureError as exc:
        told = str(exc) if isinstance(exc, signing.CoverageError) else None
        raise _refused(request, str(exc), access_key_id, told) from exc
    # Checked after the signature, so a refusal says nothing about a key to whoever lacks it.
    user = key.user
    if not key.is_enabled:
        raise _refused(request, "access key disabled", access_key_id)
    if not user.is_active or user.is_federated:
        raise _refused(request, "access key's user inactive or federated", access_key_id)
    if request.method not in SAFE_METHODS and not _first_use(authorization, moment, max_skew):
        raise _refused(request, "signature already used (replay)", access_key_id, REPLAYED)
    wanted = request.headers.get("X-Project-Id", "")
    project = project_name_for(wanted) if wanted else settings.SWR_DEFAULT_REGION
    return Caller(user=user, project=project or "", access_key=key)


def _first_use(authorization: signing.Authorization, moment: datetime, max_skew: timedelta) -> bool:
    """Whether the signature is new, remembering it until the date check would refuse it.

    cache.add is atomic (SET NX in Redis): of two copies racing, one wins. Kept as a digest."""
    until = moment + max_skew - timezone.now()
    key = "api-signature:" + hashlib.sha256(authorization.signature.encode()).hexdigest()
    return cache.add(key, True, timeout=max(1, math.ceil(until.total_seconds()) + 1))


def _refused(
    request: HttpRequest, reason: str, access_key_id: str = "", told: str | None = None
) -> ApiError:
    """ApiError(401), audited; `told` is the message for the caller (else the generic one)."""

    # A secret key sent where the access key id goes is not kept.
    shown = typed_username(access_key_id, is_one=looks_like_access_key_id(access_key_id))

    def record(**detail: Any) -> None:
        AuditEvent.record(
            AuditEvent.Action.API_REQUEST_REFUSED,
            replace(Actor.from_request(request), user=None, username=shown, channel=API),
            username=shown,
            reason=reason,
            method=request.method,
            path=request.path[:200],
            **detail,
        )

    if throttling.check(request, "api-auth", access_key_id).throttled:
        # Past the limits: one event per window from this address, with a count.
        throttling.note_throttled(request, "api-auth", lambda detail: record(**detail))
    else:
        record()
        throttling.count_failure(request, "api-auth", access_key_id)
    return unauthorized(told) if told else unauthorized()
