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
from django.utils.translation import gettext, gettext_lazy, ngettext

from credentials.admin.base import (
    ConditionSearch,
    CsvExportMixin,
    InputFilter,
    LargeTableAdmin,
    RegistryFilter,
    ViewOnlyMixin,
    time_column,
)
from credentials.models import (
    AuditEvent,
    LongTermCredential,
)
from credentials.rules import level_label

# --- Audit events -------------------------------------------------------------------

GRANT_ACTIONS = frozenset(
    {
        AuditEvent.Action.PERMISSION_GRANTED,
        AuditEvent.Action.PERMISSION_CHANGED,
        AuditEvent.Action.PERMISSION_REVOKED,
    }
)
ORGANIZATION_ACTIONS = frozenset(
    {AuditEvent.Action.ORGANIZATION_CREATED, AuditEvent.Action.ORGANIZATION_DELETED}
)


def level_shown(level: int) -> str:
    """A permission level as people read it, with Huawei's code: "Edit (3)"; "None" for 0."""
    return f"{level_label(level)} ({level})" if level else level_label(level)


def readable_detail(action: str, detail: dict[str, Any]) -> str:
    """An event's detail in one line of the page's language. Grants read as where, for whom,
    old → new level ("team-a/app, user bob, Read (1) → Edit (3)"); organizations by name; the
    rest (and any other key) as `key: value`. The detail page and the export keep the record."""
    rest = dict(detail)
    said: list[str] = []
    if action in GRANT_ACTIONS | ORGANIZATION_ACTIONS:
        name = str(rest.pop("organization", ""))
        rest.pop("organization_public_id", None)
    if action in GRANT_ACTIONS:
        repository = rest.pop("repository", "")
        said.append(
            f"{name}/{repository}"
            if repository
            else gettext("%(organization)s (whole organization)") % {"organization": name}
        )
        if "user" in rest:
            said.append(gettext("user %(name)s") % {"name": rest.pop("user")})
        if "group" in rest:
            said.append(gettext("group %(name)s") % {"name": rest.pop("group")})
        with contextlib.suppress(KeyError, TypeError, ValueError):  # an older event's shape
            old, new = int(rest["old_level"]), int(rest["new_level"])
            said.append(f"{level_shown(old)} → {level_shown(new)}")
            del rest["old_level"], rest["new_level"]
    elif action in ORGANIZATION_ACTIONS:
        said.append(gettext("organization %(name)s") % {"name": name})
        if isinstance(rest.get("grants_removed"), int):
            count = rest.pop("grants_removed")
            said.append(
                ngettext("%(count)d grant removed", "%(count)d grants removed", count)
                % {"count": count}
            )
    said += [f"{key}: {value}" for key, value in rest.items()]
    return ", ".join(said)


class ActorFilter(InputFilter):
    title = gettext_lazy("actor (username)")
    parameter_name = "actor"
    field = "actor_username"


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
        return readable_detail(event.action, event.detail)

    def export_row(self, row: Iterable[Any]) -> list[Any]:
        values = super().export_row(row)
        return [*values[:-1], ", ".join(f"{k}: {v}" for k, v in (values[-1] or {}).items())]

    # The trail is append-only: nobody adds, edits or deletes events here (nor in SQL).
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
