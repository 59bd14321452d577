"""What the long-term tab's list shows: search by name, a status filter, a sort and a page
(and Search, the same without filter and sort, for the organizations' lists).

The parameters come from the query string (and the hidden fields of the row forms, so a
no-JavaScript Disable returns to the same list). Anything unknown falls back to the default:
a bad parameter never errors. Every combination reads one user's credentials in one registry
through the `credential_tab_order` index (at most LONG_TERM_CREDENTIALS_PER_REGISTRY rows).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from django.core.paginator import Page
from django.db.models import F, OrderBy, Q, QuerySet
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from credentials.rules import NAME_MAX_LENGTH

SEARCH_MAX_LENGTH = NAME_MAX_LENGTH  # what is searched is a name
# Each status is what the row's Status column says: Expired outranks Enabled and Disabled.
STATUSES = ("enabled", "disabled", "expired")
SORTS: dict[str, tuple[OrderBy, ...]] = {
    "-created": (F("created_at").desc(), F("id").desc()),
    "created": (F("created_at").asc(), F("id").asc()),
    "name": (F("name").asc(),),
    "-name": (F("name").desc(),),
    # Never-used credentials sort after every used one, whichever the direction.
    "-last_used": (F("last_used_at").desc(nulls_last=True), F("created_at").desc()),
    "last_used": (F("last_used_at").asc(nulls_last=True), F("created_at").desc()),
}
DEFAULT_SORT = "-created"
# The columns that sort, the label of each and the direction a first click asks for.
SORTABLE = {
    "name": (_("Credential Name"), "name"),
    "created": (_("Created"), "-created"),
    "last_used": (_("Last Used"), "-last_used"),
}


def status_condition(status: str) -> Q:
    """The credentials whose Status column reads `status` now (LongTermCredential.status_label)."""
    expired = Q(expires_at__lte=timezone.now())
    if status == "expired":
        return expired
    return Q(is_enabled=status == "enabled") & ~expired


@dataclass(frozen=True)
class ListQuery:
    q: str = ""
    status: str = ""
    sort: str = DEFAULT_SORT
    page: int = 1

    @property
    def max_length(self) -> int:
        """The search box's limit (its maxlength)."""
        return SEARCH_MAX_LENGTH

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> ListQuery:
        q = str(params.get("q", "")).strip()[:SEARCH_MAX_LENGTH]
        status = params.get("status", "")
        sort = params.get("sort", "")
        page = str(params.get("page", ""))
        return cls(
            q=q,
            status=status if status in STATUSES else "",
            sort=sort if sort in SORTS else DEFAULT_SORT,
            page=int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1,
        )

    @property
    def filtered(self) -> bool:
        return bool(self.q or self.status)

    def apply(self, credentials: QuerySet) -> QuerySet:
        if self.q:
            credentials = credentials.filter(name__icontains=self.q)
        if self.status:
            credentials = credentials.filter(status_condition(self.status))
        return credentials.order_by(*SORTS[self.sort])

    def params(self, **changes: Any) -> dict[str, str]:
        """The non-default parameters, after `changes` (a new filter or sort starts at page 1)."""
        if changes.keys() & {"q", "status", "sort"}:
            changes.setdefault("page", 1)
        wanted = replace(self, **changes)
        defaults = ListQuery()
        return {
            name: str(getattr(wanted, name))
            for name in ("q", "status", "sort", "page")
            if getattr(wanted, name) != getattr(defaults, name)
        }

    def url(self, **changes: Any) -> str:
        """The query string ("?…", or "" for the default list) of this list after `changes`."""
        params = self.params(**changes)
        return "?" + urlencode(params) if params else ""

    @property
    def key(self) -> str:
        """What the list shows depends on exactly this (the page cache's key part)."""
        return repr(sorted(self.params().items()))

    def columns(self) -> list[dict[str, Any]]:
        """The sortable headers: label, the link that sorts by it, aria-sort when it does."""
        columns = []
        for column, (label, first) in SORTABLE.items():
            current = self.sort.lstrip("-") == column
            if current:
                ascending = not self.sort.startswith("-")
                target = ("-" if ascending else "") + column
                aria = "ascending" if ascending else "descending"
            else:
                target, aria = first, ""
            columns.append(
                {"name": column, "label": label, "url": self.url(sort=target), "aria_sort": aria}
            )
        return columns

    def page_links(self, page: Page) -> dict[str, Any]:
        """Previous, numbered (elided past a few) and Next links that keep the search and sort."""
        return page_links(page, self.url)


def page_links(page: Page, url: Callable[..., str]) -> dict[str, Any]:
    """Previous, numbered (elided past a few) and Next links of `page`; `url(page=n)` is the
    query string of page n with the rest of the list's parameters."""
    numbers = page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)
    return {
        "page_links": [
            {
                "number": number,
                "url": url(page=number),
                "ellipsis": number == page.paginator.ELLIPSIS,
            }
            for number in numbers
        ],
        "previous_url": url(page=page.number - 1) if page.has_previous() else "",
        "next_url": url(page=page.number + 1) if page.has_next() else "",
    }


@dataclass(frozen=True)
class Search:
    """A simpler list's parameters: a search by name and a page (the organizations, an
    organization's grants). Anything unknown falls back to the default, as in ListQuery."""

    q: str = ""
    page: int = 1

    @property
    def max_length(self) -> int:
        return SEARCH_MAX_LENGTH

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Search:
        page = str(params.get("page", ""))
        return cls(
            q=str(params.get("q", "")).strip()[:SEARCH_MAX_LENGTH],
            page=int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1,
        )

    def url(self, **changes: Any) -> str:
        """The query string ("?…", or "" for the default list) after `changes` (a new search
        starts at page 1)."""
        if "q" in changes:
            changes.setdefault("page", 1)
        wanted = replace(self, **changes)
        params = {
            name: str(getattr(wanted, name))
            for name in ("q", "page")
            if getattr(wanted, name) != getattr(Search(), name)
        }
        return "?" + urlencode(params) if params else ""

    def page_links(self, page: Page) -> dict[str, Any]:
        return page_links(page, self.url)
