"""The long-term tab's rendered page, cached in each process (settings.CACHES["pages"]).

A page is reused only while everything it shows is unchanged: its key is made of everything
it shows (key_parts), so a change changes the key and nothing stale is ever served. What
keeps the key honest:

- every write that changes what the tab lists (create, enable, disable, delete, Last Used)
  calls `User.objects.credentials_changed(owner_id)` in its transaction, raising the owner's
  credentials_version — the one method to call when you add such a write;
- a region or registry changed anywhere changes the registry cache's version
  (credentials/registry_cache.py);
- SHOWN maps every variable the tab's templates use to the key parts that cover it, and
  tests/test_page_cache.py fails when a template uses a variable SHOWN does not know.

A page with one-time messages waiting is never cached (key() is None).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib import messages
from django.core.cache import caches
from django.middleware.csrf import get_token
from django.utils.translation import get_language

from credentials import registry_cache
from credentials.console.credential_list import ListQuery

if TYPE_CHECKING:
    from django.http import HttpRequest

    from credentials.models import Registry

_pages = caches["pages"]

# What the tab's templates show (their context variables) and the key parts that change
# when it does. () means the same for every request of this view: a constant, or shown only
# in a dialog or on the temporary tab, which the cached GET never renders.
SHOWN: dict[str, tuple[str, ...]] = {
    # The rows, their Expired status (which changes with time alone: credentials_clock).
    "page": ("list_query", "credentials_version", "credentials_clock", "page_size"),
    # The list's query, its page links and "N of M used" (issue 17).
    "list": ("list_query",),
    "page_links": ("list_query", "credentials_version", "page_size"),
    "previous_url": ("list_query", "credentials_version", "page_size"),
    "next_url": ("list_query", "credentials_version", "page_size"),
    "used": ("credentials_version",),
    "LANGUAGE_CODE": ("language",),
    "languages": (),  # settings.LANGUAGES, the language switch's options
    "columns": ("list_query",),  # the list's sortable headers (list.columns)
    "issued": (),  # the temporary tab's log, never cached
    "log_entry": (),  # the row Generate adds to the log, never cached
    # The new password's CSV link: only in a no-JavaScript create's or reset's POST answer,
    # which is never cached (only GETs are).
    "download": (),
    # The banner of credentials expiring within a week (context_processors.console).
    "expiring_credentials": ("credentials_version", "credentials_clock"),
    "registry": ("registry", "catalog_version"),
    "regions": ("catalog_version",),
    # The registry's region: the full page selects it (views.base.remember_region).
    "current_region": ("registry", "catalog_version"),
    "user": ("user_id", "username", "is_federated", "is_staff"),
    "can_create": ("is_federated",),
    "credential_limit": ("credential_limit",),
    "csrf_token": ("csrf_secret",),
    "request": ("partial",),  # request.htmx: the fragment or the whole page
    "messages": (),  # a page with messages waiting is never cached
    "federated_message": (),
    "section": (),
    "tab": (),
    "dialog": (),
    "form": (),
    "refusal": (),
    "login": (),
    "command": (),
    "kind": (),
    "per_minute": (),
    "row_error": (),  # only in the row answered to a refused Enable, never cached
    "grace_hours": (),  # Reset Password's dialog
    "can_narrow": (),  # the create dialog's Organizations choice
    "secret_manifest": (),
}


def key_parts(request: HttpRequest, registry: Registry, *, partial: bool) -> dict[str, Any]:
    """Everything the tab's page shows depends on, by name (see SHOWN)."""
    user = request.user
    if "CSRF_COOKIE" not in request.META:
        get_token(request)  # a browser without a CSRF cookie gets a new secret
    return {
        "partial": partial,
        # The list's search, status filter, sort and page, normalised (credential_list.py).
        "list_query": ListQuery.from_params(request.GET).key,
        # The page is rendered in one language (LocaleMiddleware: cookie, Accept-Language).
        "language": get_language(),
        "user_id": user.pk,
        "username": user.get_username(),
        "is_federated": user.is_federated,
        "is_staff": user.is_staff,
        "credentials_version": user.credentials_version,
        # Statuses (Expired) and the expiry banner also change with time alone.
        "credentials_clock": user.credentials_clock(),
        # The session's own secret: the page's forms carry tokens for it.
        "csrf_secret": request.META["CSRF_COOKIE"],
        "registry": registry.public_id,
        "catalog_version": registry_cache.current().version,
        "page_size": settings.LONG_TERM_PAGE_SIZE,
        "credential_limit": settings.LONG_TERM_CREDENTIALS_PER_REGISTRY,
    }


def key(request: HttpRequest, registry: Registry, *, partial: bool) -> str | None:
    """The key of the tab's rendered page, or None (render, do not cache) while one-time
    messages wait to be shown."""
    if not partial and len(messages.get_messages(request)):
        return None
    return key_of(key_parts(request, registry, partial=partial))


def key_of(parts: dict[str, Any]) -> str:
    return "long-term-tab:" + hashlib.sha256(repr(sorted(parts.items())).encode()).hexdigest()


def get(page_key: str | None) -> bytes | None:
    return _pages.get(page_key) if page_key else None


def set(page_key: str | None, content: bytes) -> None:
    if page_key:
        _pages.set(page_key, content)
