"""Floors: the least each measured endpoint must do, served only by the benchmark's server.

A target is a ratio to the minimal view, so it can only be met if the work the requirement
itself imposes fits under it. Each floor does exactly that work, through the same code the
console uses, and nothing else:

- a signed-in POST: the session cookie, the CSRF check and the user's row, answered with "ok"
  (what every console action pays before it does anything);
- generate: a signed-in POST that stores a new temporary credential together with its audit
  event, answered with the login command as plain text (no form, no rate limit, no template);
- token: the Basic header, the one lookup by username and the signed JWT, answered as plain
  text (no throttle check, no JSON, no cache headers, no Last Used);
- token with permissions: the same, plus one indexed lookup of what the credential's owner
  may do on the repository the scope names (their own grant there, by the organization's and
  the grant's unique indexes; no groups, no narrowing, no administrators), in the JWT;
- token with permissions and one Redis round trip: the same, plus the least that counters in
  Redis add (the server started with CACHE_URL=redis://): one MGET of the four keys a login
  checks (the address, the username from it, the username anywhere, the address known for
  it), through a redis-py client the process keeps (no Django cache, no digests, no pickle);
- an AK/SK-signed list: the SDK-HMAC-SHA256 check (the key's one lookup with its user, the
  secret's decryption, the canonical request and its HMAC), then the caller's credentials in
  the registry (count and first page) as JSON (no dispatch, no parameter checks, no catalog);
- an AK/SK-signed create_secret: the same check and the signature's one use (a write is
  accepted once: one add to the shared cache), then a temporary credential stored with its
  audit event, answered as plain text (no rate limit, no JSON, no headers);
- a cached page: a signed-in GET answered with a page of the tab's size from the process's
  page cache (what the long-term tab does when nothing changed: its key's parts — the list's
  search, filter, sort and page, the language, the CSRF secret — are the console's additions).
- token POST (the OAuth2 password grant): the form's username, password and service, the same
  lookup, the permission's lookup and JWT (no field checks, no throttle check, no JSON);
- token refresh (the OAuth2 refresh grant): the form's refresh token and service, the one
  lookup of the token with its credential and owner, the permission's lookup and the JWT.

The distance between an endpoint and its floor is what the console adds; the distance between
the floor and the minimal view is what the requirement costs on this stack.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from credentials import registry_cache
from credentials.api import signing
from credentials.console import page_cache
from credentials.console.views import long_term as views
from credentials.models import (
    AccessKey,
    Actor,
    LongTermCredential,
    Organization,
    Permission,
    RefreshToken,
    TemporaryCredential,
    User,
)
from credentials.models.sql import fetch_one
from credentials.registry import basic, principals, tokens
from credentials.rules import LEVEL_ACTIONS


@login_required
@require_POST
def signed_in_post(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


@login_required
@require_POST
def generate(request: HttpRequest, registry_id: uuid.UUID) -> HttpResponse:
    registry = registry_cache.registry(registry_id)
    if registry is None:
        raise Http404("No such registry.")
    credential, password = TemporaryCredential.objects.issue(
        registry=registry, by=Actor.from_request(request), kind="image"
    )
    command = f"docker login -u {credential.username} -p {password} {registry.address}"
    return HttpResponse(command, content_type="text/plain")


# The least a permission costs: the owner's own grant on the repository or its organization,
# through organization_name_per_registry and permission_per_user.
_GRANT = f"""
    SELECT MAX(p.level) FROM {Permission._meta.db_table} p
    JOIN {Organization._meta.db_table} o ON o.id = p.organization_id
    WHERE o.registry_id = %s AND o.name = %s AND p.user_id = %s AND p.repository IN ('', %s)
"""  # noqa: S608 - table names from model metadata


def _permitted(principal: principals.Principal, scope: str) -> list[dict]:
    """The access for one `repository:<org>/<path>:<actions>` scope: the owner's level there
    (none without such a scope)."""
    name = scope.partition(":")[2].rpartition(":")[0]
    organization, _, path = name.partition("/")
    if not path:
        return []
    (level,) = fetch_one(_GRANT, [principal.registry_id, organization, principal.owner_id, path])
    return [{"type": "repository", "name": name, "actions": sorted(LEVEL_ACTIONS[level or 0])}]


@require_GET
def token(request: HttpRequest) -> HttpResponse:
    credentials = basic._basic_credentials(request)
    service = request.GET.get("service", "")
    principal = principals.verify(*credentials, service) if credentials else None
    if principal is None:
        return HttpResponse("unauthorized", status=401, content_type="text/plain")
    issued = tokens.issue_token(principal.username, service, [])
    return HttpResponse(issued["token"], content_type="text/plain")


@require_GET
def token_with_permissions(request: HttpRequest) -> HttpResponse:
    credentials = basic._basic_credentials(request)
    service = request.GET.get("service", "")
    principal = principals.verify(*credentials, service) if credentials else None
    if principal is None:
        return HttpResponse("unauthorized", status=401, content_type="text/plain")
    access = _permitted(principal, request.GET.get("scope", ""))
    issued = tokens.issue_token(principal.username, service, access)
    return HttpResponse(issued["token"], content_type="text/plain")


_redis_clients: list[object] = []


def _redis() -> object:
    """The process's one redis-py client (its connection pool reused), on CACHE_URL's Redis."""
    if not _redis_clients:
        import redis
        from django.conf import settings

        _redis_clients.append(redis.Redis.from_url(settings.CACHES["default"]["LOCATION"]))
    return _redis_clients[0]


@require_GET
def token_with_permissions_and_redis(request: HttpRequest) -> HttpResponse:
    credentials = basic._basic_credentials(request)
    username = credentials[0] if credentials else ""
    address = request.META.get("REMOTE_ADDR", "")
    _redis().mget(  # type: ignore[attr-defined]
        [f"a:{address}", f"u:{username}:{address}", f"n:{username}", f"k:{username}:{address}"]
    )
    return token_with_permissions(request)


def _signed_by(request: HttpRequest) -> User | None:
    try:
        authorization = signing.parse_authorization(request.headers.get("Authorization", ""))
        moment = signing.signed_at(request, timezone.now(), timedelta(minutes=15))
        key = AccessKey.objects.for_signature(authorization.access_key_id)
        if key is None or not key.is_enabled:
            return None
        signing.verify(request, authorization, key.secret_key() or "", moment)
    except signing.SignatureError:
        return None
    return key.user


@require_GET
def signed_list(request: HttpRequest, registry_id: uuid.UUID) -> HttpResponse:
    user = _signed_by(request)
    if user is None:
        return HttpResponse("unauthorized", status=401, content_type="text/plain")
    credentials = LongTermCredential.objects.filter(owner=user, registry__public_id=registry_id)
    page = credentials.values_list("name", "username", "is_enabled", "created_at")[:100]
    return JsonResponse({"total": credentials.count(), "auth_tokens": [list(r) for r in page]})


@csrf_exempt  # signed, like the API: no cookies, so no CSRF
@require_POST
def signed_create_secret(request: HttpRequest, registry_id: uuid.UUID) -> HttpResponse:
    user = _signed_by(request)
    registry = registry_cache.registry(registry_id)
    signature = request.headers.get("Authorization", "")[-64:]
    if user is None or registry is None or not cache.add(f"floor:{signature}", True, 1800):
        return HttpResponse("unauthorized", status=401, content_type="text/plain")
    credential, password = TemporaryCredential.objects.issue(
        registry=registry, by=Actor(user=user, channel="api"), kind="image"
    )
    command = f"docker login -u {credential.username} -p {password} {registry.address}"
    return HttpResponse(command, content_type="text/plain")


@login_required
@require_GET
def cached_page(request: HttpRequest, registry_id: uuid.UUID) -> HttpResponse:
    user = request.user
    key = f"bench-floor:{user.pk}:{user.credentials_version}:{registry_id}"
    html = page_cache.get(key)
    if html is None:  # the first request stores the real tab's page, so the sizes match
        html = views.long_term_tab(request, registry_id=registry_id).content
        page_cache.set(key, html)
    return HttpResponse(html)


@csrf_exempt
@require_POST
def token_post(request: HttpRequest) -> HttpResponse:
    form = request.POST
    service = form.get("service", "")
    principal = principals.verify(form.get("username", ""), form.get("password", ""), service)
    if principal is None:
        return HttpResponse("unauthorized", status=401, content_type="text/plain")
    access = _permitted(principal, form.get("scope", ""))
    issued = tokens.issue_token(principal.username, service, access)
    return HttpResponse(issued["access_token"], content_type="text/plain")


@csrf_exempt
@require_POST
def token_refresh(request: HttpRequest) -> HttpResponse:
    form = request.POST
    service = form.get("service", "")
    check = RefreshToken.objects.verify(
        form.get("refresh_token", ""), service, used_since=timezone.now()
    )
    if check.refusal:
        return HttpResponse("unauthorized", status=401, content_type="text/plain")
    principal = principals.Principal(
        check.username, owner_id=check.owner_id, registry_id=check.registry_id
    )
    issued = tokens.issue_token(
        check.username, service, _permitted(principal, form.get("scope", ""))
    )
    return HttpResponse(issued["access_token"], content_type="text/plain")
