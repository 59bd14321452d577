"""The Docker registry token service: the console is the authority for its credentials.

A CNCF Distribution registry configured with `auth: token` sends clients here (the realm) with
HTTP Basic credentials; we answer with a short-lived ES256 JWT granting the repository
actions the credential allows, or 401. See docs/HUAWEI-API.md §5 and docs/REGISTRY.md.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import logging
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from credentials import throttling
from credentials.models import (
    Actor,
    AuditEvent,
    LongTermCredential,
    RefreshToken,
    Registry,
    TemporaryCredential,
    User,
    password_matches,
)
from credentials.models.sql import fetch_one
from credentials.timestamps import utc_iso

logger = logging.getLogger(__name__)

LAST_USED_PRECISION = timedelta(minutes=1)
# Longest username or password we look at; anything longer is refused before any work.
MAX_CREDENTIAL_LENGTH = 256


@dataclass(frozen=True)
class SigningKey:
    private_key: Any
    certificate_der: bytes
    kid: str


@functools.cache
def load_signing_key(key_file: str, cert_file: str) -> SigningKey:
    """The token signing key and its certificate, read once per path pair."""
    try:
        with open(key_file, "rb") as handle:
            private_key = serialization.load_pem_private_key(handle.read(), password=None)
        with open(cert_file, "rb") as handle:
            certificate = x509.load_pem_x509_certificate(handle.read())
    except (OSError, ValueError) as exc:
        raise ImproperlyConfigured(
            f"Cannot read the registry token key pair ({key_file}, {cert_file}): {exc}. "
            "Create one with `manage.py create_registry_token_keys`."
        ) from exc
    public_der = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return SigningKey(
        private_key=private_key,
        certificate_der=certificate.public_bytes(serialization.Encoding.DER),
        kid=libtrust_key_id(public_der),
    )


def libtrust_key_id(public_key_der: bytes) -> str:
    """The key id Distribution derives from a public key (libtrust's fingerprint format)."""
    digest = hashlib.sha256(public_key_der).digest()[:30]
    encoded = base64.b32encode(digest).decode().rstrip("=")
    return ":".join(encoded[i : i + 4] for i in range(0, 48, 4))


def current_signing_key() -> SigningKey:
    return load_signing_key(settings.REGISTRY_TOKEN_KEY_FILE, settings.REGISTRY_TOKEN_CERT_FILE)


# --- Who is asking ------------------------------------------------------------------


@dataclass(frozen=True)
class Principal:
    """A verified credential: who it is, and which registries it may act on."""

    username: str
    long_term_id: int | None = None
    owner_id: int | None = None
    # Whether Last Used was recorded less than LAST_USED_PRECISION ago (long-term only).
    last_used_recently: bool = False
    registry_address: str = ""
    project_name: str = ""
    # A temporary credential's row and expiry (for the refresh tokens it may be issued).
    temporary_id: int | None = None
    temporary_expires_at: datetime | None = None

    def may_use(self, service: str) -> bool:
        """A long-term credential works at its registry; a temporary one at its project's."""
        if self.long_term_id is not None:
            return self.registry_address == service
        return Registry.objects.filter(address=service, project_name=self.project_name).exists()


# The hot path's one query, written out: the ORM would spend longer compiling it than the
# database spends answering it (see docs/PERFORMANCE.md). Whether Last Used is recent is
# answered by the database against the cutoff we pass (our clock, as the UPDATE uses), so no
# timestamp is read back on every request. Long-term and temporary credentials are looked up
# in the same statement, so a known username and an unknown one cost the same queries.
# Expiry is compared the same way: a long-term credential is refused from its expires_at on
# (our clock, as every write uses). After Reset Password the replaced password's digest comes
# back too, only while its overlap lasts (NULL otherwise).
_LOOKUP = f"""
    SELECT c.id, c.owner_id, c.password_digest,
           c.is_enabled AND u.is_active AND NOT u.is_federated
               AND (c.expires_at IS NULL OR c.expires_at > %s),
           c.last_used_at > %s, r.address, '',
           CASE WHEN c.previous_password_until > %s THEN c.previous_password_digest END,
           NULL, NULL
    FROM {LongTermCredential._meta.db_table} c
    JOIN {User._meta.db_table} u ON u.id = c.owner_id
    JOIN {Registry._meta.db_table} r ON r.id = c.registry_id
    WHERE c.username = %s
    UNION ALL
    SELECT NULL, t.user_id, t.password_digest, u.is_active, false, '', t.project_name, NULL,
           t.id, t.expires_at
    FROM {TemporaryCredential._meta.db_table} t
    JOIN {User._meta.db_table} u ON u.id = t.user_id
    WHERE t.username = %s AND t.expires_at > %s
    LIMIT 1
"""  # noqa: S608 - table names from model metadata, the values are parameters
# Compared against when the username is unknown, so that case costs the same HMAC too.
_NO_DIGEST = "0" * 64


def _basic_credentials(request: HttpRequest) -> tuple[str, str] | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded or len(encoded) > 4 * MAX_CREDENTIAL_LENGTH:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, colon, password = decoded.partition(":")
    if not colon or not username or not password or "\x00" in decoded:
        return None  # PostgreSQL text cannot hold NUL: such a username exists nowhere
    return username, password


def verify(username: str, password: str) -> Principal | None:
    """The credential `username` if `password` is its password and it may log in now.

    One indexed lookup by username (long-term and temporary together, joined with the owner
    and registry) and one HMAC, whether or not the username exists (a second only during a
    reset's overlap, for a password that is not the current one).
    """
    now = timezone.now()
    row = fetch_one(
        _LOOKUP, [now, now - LAST_USED_PRECISION, now, username, username, now], times=[9]
    )
    digest = row[2] if row is not None else _NO_DIGEST
    matches = password_matches(password, digest)
    previous = row[7] if row is not None else None
    if not matches and previous is not None:  # the password a reset replaced, still in overlap
        matches = password_matches(password, previous)
    if row is None or not matches:
        return None
    pk, owner_id, _, allowed, used_recently, address, project, _, temporary_id, expires_at = row
    if not allowed:
        return None
    if pk is None:
        return Principal(
            username,
            project_name=project,
            temporary_id=temporary_id,
            temporary_expires_at=expires_at,
        )
    return Principal(
        username,
        pk,
        owner_id,
        last_used_recently=bool(used_recently),  # NULL when never used
        registry_address=address,
    )


# Actions a repository scope may carry; "*" is the catalog's.
REPOSITORY_ACTIONS = frozenset({"pull", "push", "delete"})
# Granted for a repository whenever a client asks for any action on it (see DECISIONS.md,
# "Scopes"): a client that keeps its first, pull-only token can still push. Never delete.
WIDENED_ACTIONS = ("pull", "push")


def granted_access(scopes: list[str]) -> list[dict]:
    """What a credential may do, for each resource a client named.

    For a repository: what the credential may do on its registry (REGISTRY_TOKEN_ACTIONS)
    among pull and push, plus delete when asked and allowed. The catalog
    (`registry:catalog:*`) only when REGISTRY_TOKEN_CATALOG is on. Anything else: nothing.
    """
    allowed = set(settings.REGISTRY_TOKEN_ACTIONS)
    widened = {action for action in WIDENED_ACTIONS if action in allowed}
    access: list[dict] = []
    for scope in scopes:
        for item in scope.split(" "):
            kind, _, rest = item.partition(":")
            name, _, actions = rest.rpartition(":")
            if kind == "registry" and name == "catalog" and actions == "*":
                if settings.REGISTRY_TOKEN_CATALOG:
                    access.append({"type": "registry", "name": "catalog", "actions": ["*"]})
                continue
            if kind != "repository" or not name:
                continue
            asked = set(actions.split(",")) & REPOSITORY_ACTIONS
            if not asked:
                continue
            granted = widened | (asked & allowed)
            if granted:
                access.append({"type": kind, "name": name, "actions": sorted(granted)})
    return access


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


# --- The GET flow, and what both flows share ------------------------------------------


WWW_AUTHENTICATE = 'Basic realm="SWR Console registry token service"'


def token_response(body: dict[str, Any], status: int = 200) -> JsonResponse:
    # As RFC 6749 (5.1) asks of any answer that carries a token: never stored by a cache.
    response = JsonResponse(body, status=status)
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


def _unauthorized() -> HttpResponse:
    # The same answer for every failure, so a username cannot be told from a password.
    response = token_response(
        {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}, status=401
    )
    response["WWW-Authenticate"] = WWW_AUTHENTICATE
    return response


def throttle_verdict(request: HttpRequest, username: str, service: str) -> throttling.Verdict:
    """The throttle's verdict for this login (both flows); a throttled one is noted (refuse it)."""
    verdict = throttling.check(request, "registry-login", username)
    if verdict.throttled:
        logger.warning("registry login refused while throttled")
        throttling.note_throttled(
            request,
            "registry-login",
            lambda detail: _record_failure(request, username, service, "throttled", **detail),
        )
    return verdict


def remember_success(request: HttpRequest, verdict: throttling.Verdict, username: str) -> None:
    if not verdict.known:  # once per address: later successes from it write nothing
        throttling.remember_address(request, "registry-login", username)


def record_failure(request: HttpRequest, username: str, service: str, reason: str) -> None:
    """Count one failed login (both flows) and audit it."""
    if throttling.count_failure(request, "registry-login", username):
        logger.warning("registry login throttled for a username or IP")
    _record_failure(request, username, service, reason)


def _record_failure(
    request: HttpRequest, username: str, service: str, reason: str, **detail: Any
) -> None:
    AuditEvent.record(
        AuditEvent.Action.REGISTRY_LOGIN_FAILED,
        replace(Actor.from_request(request), user=None),  # a registry client signs no one in
        registry=Registry.objects.filter(address=service).first() if service else None,
        username=username[:150],
        reason=reason,
        service=service[:255],
        **detail,
    )


def _refuse(request: HttpRequest, username: str, service: str, reason: str) -> HttpResponse:
    record_failure(request, username, service, reason)
    return _unauthorized()


def token_get(request: HttpRequest) -> HttpResponse:
    """The GET flow: HTTP Basic credentials, `service` and `scope` in the query string."""
    service = request.GET.get("service", "")
    credentials = _basic_credentials(request)
    username = credentials[0][:MAX_CREDENTIAL_LENGTH] if credentials else ""
    verdict = throttle_verdict(request, username, service)
    if verdict.throttled:
        return _unauthorized()
    if credentials is None:
        return _refuse(request, username, service, "missing or malformed Basic credentials")
    if len(credentials[0]) > MAX_CREDENTIAL_LENGTH or len(credentials[1]) > MAX_CREDENTIAL_LENGTH:
        return _refuse(request, username, service, "credentials too long")

    principal = verify(*credentials)
    if principal is None:
        return _refuse(request, username, service, "wrong, disabled or expired credential")
    if not service or not principal.may_use(service):
        return _refuse(request, username, service, "unknown service, or another registry's")

    remember_success(request, verdict, username)
    touch_last_used(principal)
    access = granted_access(request.GET.getlist("scope"))
    body = issue_token(principal.username, service, access)
    if request.GET.get("offline_token") == "true":  # docker login asks for one
        body["refresh_token"] = issue_refresh_token(principal, service)
    return token_response(body)


def issue_refresh_token(principal: Principal, service: str) -> str:
    return RefreshToken.objects.issue(
        service=service,
        long_term_id=principal.long_term_id,
        temporary_id=principal.temporary_id,
        temporary_expires_at=principal.temporary_expires_at,
    )


def touch_last_used(principal: Principal) -> None:
    """Record use of a long-term credential at most once a minute: one conditional UPDATE,
    skipped when fresh (and the owner's credentials_version, so their tab shows it)."""
    if principal.long_term_id is None or principal.last_used_recently:
        return
    now = timezone.now()
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_PRECISION)
    with transaction.atomic():
        touched = LongTermCredential.objects.filter(stale, pk=principal.long_term_id).update(
            last_used_at=now
        )
        if touched:
            User.objects.credentials_changed(principal.owner_id)
