"""The admin's machinery shared by every model admin: capped counts, secret fields refused,
formula-safe CSV exports, view-only tables, typed-value filters and owner/audit links."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters, admin_urlname
from django.contrib.admin.utils import quote
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import Paginator
from django.db.models import Model, Q, QuerySet
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.encoding import iri_to_uri
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from credentials.models import Registry
from credentials.timestamps import shown, utc_iso

COUNT_CAP = 10_000
# Stands for a row's key in the change URL reversed once a page (OneReverseChangeList).
PK_PLACEHOLDER = "__pk__"
# Fields no list URL or export may filter on: a `__startswith` lookup would reveal a digest a
# character at a time (Django allows any lookup on a model's own fields by default).
SECRET_FIELDS = frozenset(
    {"password", "password_digest", "previous_password_digest", "digest", "secret_ciphertext"}
)
# A cell starting with one of these is a formula to a spreadsheet (OWASP "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class CappedCountPaginator(Paginator):
    """Counts at most COUNT_CAP rows, so a page of a million-row table never scans it all.

    Past the cap the last reachable page is COUNT_CAP / page size; filter to narrow down.
    """

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if isinstance(queryset, QuerySet):
            return queryset.order_by().values("pk")[: COUNT_CAP + 1].count()
        return len(queryset)


def spreadsheet_safe(value: Any) -> Any:
    """A cell a spreadsheet shows as text: a leading formula character gets a quote first.

    Exports carry text nobody authenticated (failed sign-in usernames, User-Agents).
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SecretFieldsRefused:
    """Refuses (400) list URLs and exports that filter on a secret field, through any path."""

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        if SECRET_FIELDS.intersection(lookup.split(LOOKUP_SEP)):
            return False
        return super().lookup_allowed(lookup, value, request)  # type: ignore[misc]


class OneReverseChangeList(ChangeList):
    """Row links built once a page, not once a row: for each row Django reverses the change
    URL and, on a filtered list, resolves it again to carry the filters (50 × 80 µs)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The filters go into the one link built below; Django's per-row pass (the only
        # reader of this attribute) then has none left to add.
        self.row_link_filters, self.preserved_filters = self.preserved_filters, ""

    @cached_property
    def _change_url(self) -> str:
        url = reverse(
            admin_urlname(self.opts, "change"),
            args=(PK_PLACEHOLDER,),
            current_app=self.model_admin.admin_site.name,
        )
        context = {"preserved_filters": self.row_link_filters, "opts": self.opts}
        return add_preserved_filters(context, url)

    def url_for_result(self, result: Any) -> str:
        pk = quote(str(getattr(result, self.pk_attname)))
        return self._change_url.replace(PK_PLACEHOLDER, iri_to_uri(pk), 1)


def time_column(model: type[Model], field: str) -> Callable[[Any], str | None]:
    """A list column of `field` in the one format people read (timestamps.shown), sortable by
    it, with its field's label and cell class: Django's own display parses its format anew
    for every cell."""

    def column(obj: Any) -> str | None:
        value = getattr(obj, field)
        return None if value is None else shown(value)  # None: the admin's empty value

    column.__name__ = field  # the cell's class stays field-<name>
    label = model._meta.get_field(field).verbose_name
    return admin.display(description=label, ordering=field)(column)


class ConditionSearch:
    """The admin's search as one condition the admin builds from the term (`search_condition`),
    instead of Django's OR of `icontains` over `search_fields`, a scan of every row."""

    def search_condition(self, term: str) -> Q:
        raise NotImplementedError

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(self.search_condition(term)), False


class LargeTableAdmin(admin.ModelAdmin):
    """The options every changelist of a table that grows to millions of rows needs: counts
    capped, no full count beside them, no facet counts (each would scan every row); and rows
    that cost no more to draw than they must."""

    paginator = CappedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return OneReverseChangeList

    def action_checkbox(self, obj: Any) -> str:
        """Django's row checkbox, the same markup written directly: rendering a form widget
        through the template engine for each of 50 rows was a fifth of the page's time."""
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            ACTION_CHECKBOX_NAME,
            obj.pk,
            format_html(gettext("Select this object for an action - {}"), str(obj)),
        )


class ViewOnlyMixin:
    """Rows made elsewhere (by their users, or by the console): nobody adds or changes one here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class _Echo:
    def write(self, value: str) -> str:
        return value


class CsvExportMixin(SecretFieldsRefused):
    """An "Export CSV" of the changelist's current filter and search, streamed row by row."""

    export_fields: tuple[tuple[str, str], ...] = ()

    def get_urls(self) -> list:
        opts = self.opts  # type: ignore[attr-defined]
        export = path(
            "export.csv",
            self.admin_site.admin_view(self.export_csv),  # type: ignore[attr-defined]
            name=f"{opts.app_label}_{opts.model_name}_export",
        )
        return [export, *super().get_urls()]  # type: ignore[misc]

    def export_csv(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):  # type: ignore[attr-defined]
            return HttpResponse(_("You may not view these rows."), status=403)
        changelist: ChangeList = self.get_changelist_instance(request)  # type: ignore[attr-defined]
        queryset = changelist.get_queryset(request)
        fields = [field for field, _ in self.export_fields]
        rows = queryset.values_list(*fields).iterator(chunk_size=2000)
        writer = csv.writer(_Echo())

        def stream() -> Iterator[str]:
            yield writer.writerow(self.export_header())
            for row in rows:
                yield writer.writerow([spreadsheet_safe(cell) for cell in self.export_row(row)])

        # The file's name in English whatever the page's language, like the columns: a Chinese
        # name would make Django MIME-encode the whole header, which browsers do not decode.
        with translation.override(None):
            name = str(self.opts.verbose_name_plural).replace(" ", "-")  # type: ignore[attr-defined]
        response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
        response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
        return response

    def export_header(self) -> list[str]:
        """The columns' names: English in every language, for the scripts that read them."""
        return [label for _, label in self.export_fields]

    def export_row(self, row: Iterable[Any]) -> list[Any]:
        # For machines: ISO-8601 in UTC, to the second, whatever the page's language.
        return [utc_iso(value) if hasattr(value, "astimezone") else value for value in row]


def owner_links(username: str) -> str:
    """A username with links to its credentials and its actions: lists every viewer may open."""
    credentials = reverse("admin:credentials_longtermcredential_changelist")
    events = reverse("admin:credentials_auditevent_changelist")
    return format_html(
        '{} (<a href="{}?{}">{}</a>, <a href="{}?{}">{}</a>)',
        username,
        credentials,
        urlencode({"owner": username}),
        _("credentials"),
        events,
        urlencode({"actor": username}),
        _("actions"),
    )


def audit_link(text: str, **filters: Any) -> str:
    url = reverse("admin:credentials_auditevent_changelist") + "?" + urlencode(filters)
    return format_html('<a href="{}">{}</a>', url, text)


class InputFilter(admin.SimpleListFilter):
    """A filter that takes a typed value (a username), instead of listing thousands of links."""

    template = "admin/credentials/input_filter.html"
    field = ""
    placeholder = _("exact username")

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return []

    def has_output(self) -> bool:
        return True

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = (self.value() or "").strip()
        return queryset.filter(**{self.field: value}) if value else queryset

    def choices(self, changelist: ChangeList) -> Iterator[dict[str, Any]]:
        # One "choice" carrying what the template needs: the value and the other parameters.
        others = {
            key: value
            for key, value in changelist.get_filters_params().items()
            if key != self.parameter_name
        }
        if changelist.query:
            others["q"] = changelist.query
        yield {
            "value": self.value() or "",
            "others": [(key, v) for key, values in others.items() for v in _as_list(values)],
            "clear": changelist.get_query_string(remove=[self.parameter_name]),
        }


class RegistryFilter(admin.SimpleListFilter):
    """By registry (a list: a deployment has a few), on the model's `field`."""

    title = _("registry")
    parameter_name = "registry"
    field = "registry_id"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(str(r.pk), str(r)) for r in Registry.objects.all()]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if not value:
            return queryset
        if not (value.isascii() and value.isdigit()):  # Django's "bad filter" page, not a 500
            raise IncorrectLookupParameters(value)
        return queryset.filter(**{self.field: int(value)})


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
