"""The audit trail: read-only for everyone, searchable by actor and registry, exported as
CSV."""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy

from credentials.admin.base import (
    ConditionSearch,
    CsvExportMixin,
    InputFilter,
    LargeTableAdmin,
    ViewOnlyMixin,
    time_column,
)
from credentials.models import (
    AuditEvent,
    LongTermCredential,
    Registry,
)

# --- Audit events -------------------------------------------------------------------


class ActorFilter(InputFilter):
    title = gettext_lazy("actor (username)")
    parameter_name = "actor"
    field = "actor_username"


class RegistryFilter(admin.SimpleListFilter):
    title = gettext_lazy("registry")
    parameter_name = "registry"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(str(r.pk), str(r)) for r in Registry.objects.all()]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(registry_id=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(ConditionSearch, CsvExportMixin, ViewOnlyMixin, LargeTableAdmin):
    list_display = (
        time_column(AuditEvent, "created_at"),
        "action",
        "channel",
        "actor_username",
        "ip_address",
        "registry_address",
        "credential",
        "credential_username",
        "summary",
    )
    list_filter = (
        "action",
        "channel",
        ActorFilter,
        RegistryFilter,
        ("created_at", admin.DateFieldListFilter),
    )
    search_help_text = gettext_lazy(
        "A credential username or its beginning (cn-north-4@…); a credential name, an actor "
        "or an IP address."
    )
    search_fields = ("credential_name",)  # shows the box; search_condition does the work
    list_per_page = 50
    fields = (
        "created_at",
        "action",
        "actor_username",
        "ip_address",
        "user_agent",
        "registry_address",
        "credential_name",
        "credential_username",
        "credential_public_id",
        "credential",
        "detail",
    )
    readonly_fields = fields
    export_fields = (
        ("created_at", "Time"),
        ("action", "Action"),
        ("actor_username", "Actor"),
        ("ip_address", "IP Address"),
        ("user_agent", "User Agent"),
        ("registry_address", "Registry"),
        ("credential_name", "Credential Name"),
        ("credential_username", "Credential Username"),
        ("credential_public_id", "Credential ID"),
        ("detail", "Detail"),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # The credential's admin id when it still exists, evaluated for the shown page only.
        existing = LongTermCredential.objects.filter(public_id=OuterRef("credential_public_id"))
        return (
            super()
            .get_queryset(request)
            .annotate(credential_pk=Subquery(existing.values("pk")[:1]))
        )

    def search_condition(self, term: str) -> Q:
        # Credential usernames by their beginning, served by a varchar_pattern_ops index at a
        # million events; names and actors exactly (a name's or an actor's beginning can match
        # thousands of events, which would all be sorted: 7× the minimal page).
        match = (
            Q(credential_name=term)
            | Q(credential_username__startswith=term)
            | Q(actor_username=term)
        )
        with contextlib.suppress(ValueError):  # not an IP address: no IP condition
            match |= Q(ip_address=str(ipaddress.ip_address(term)))
        return match

    @admin.display(description=gettext_lazy("credential"), ordering="credential_name")
    def credential(self, event: AuditEvent) -> str:
        name = event.credential_name or ""
        pk = getattr(event, "credential_pk", None)
        if pk is None:
            return name
        url = reverse("admin:credentials_longtermcredential_change", args=[pk])
        return format_html('<a href="{}">{}</a>', url, name)

    @admin.display(description=gettext_lazy("detail"))
    def summary(self, event: AuditEvent) -> str:
        return ", ".join(f"{key}: {value}" for key, value in event.detail.items())

    def export_row(self, row: Iterable[Any]) -> list[Any]:
        values = super().export_row(row)
        return [*values[:-1], ", ".join(f"{k}: {v}" for k, v in (values[-1] or {}).items())]

    # The trail is append-only: nobody adds, edits or deletes events here (nor in SQL).
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
