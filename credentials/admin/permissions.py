"""Organizations and their permission grants, read-only: who may pull, push or manage where,
filtered by user, group, organization, registry and level, and exported as CSV.

Nobody adds, changes or deletes an organization or a grant here, superusers included: the
console and Huawei's API make those changes through the domain's actions, which check who may
make them, keep an organization's last Manage holder and audit each change
(credentials/models/organizations.py). A delete here would bypass all three."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.contrib.auth.models import Group
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.urls import reverse
from django.utils import translation
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext, gettext_lazy, ngettext

from credentials.admin.audit import level_shown
from credentials.admin.base import (
    ConditionSearch,
    CsvExportMixin,
    InputFilter,
    LargeTableAdmin,
    RegistryFilter,
    SecretFieldsRefused,
    ViewOnlyMixin,
    time_column,
)
from credentials.models import Organization, Permission, User
from credentials.rules import LEVEL_ACTIONS, LEVELS, level_label

# A search by an organization's beginning lists the grants of at most this many of them.
PREFIX_MATCHES = 100


class ReadOnlyAdmin(ViewOnlyMixin):
    """No add, change or delete for anyone (see the module's docstring)."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def permissions_url(**filters: Any) -> str:
    return reverse("admin:credentials_permission_changelist") + "?" + urlencode(filters)


def someone(user: User | None) -> str:
    # No user: manage.py grant_permissions (the operator), or an account deleted since.
    return user.get_username() if user is not None else gettext("system")


# --- Organizations --------------------------------------------------------------------------


@admin.register(Organization)
class OrganizationAdmin(ConditionSearch, ReadOnlyAdmin, SecretFieldsRefused, LargeTableAdmin):
    list_display = (
        "name",
        "registry_name",
        "creator",
        time_column(Organization, "created_at"),
        "grants",
    )
    list_filter = (RegistryFilter,)
    search_fields = ("name",)  # shows the box; search_condition does the work
    search_help_text = gettext_lazy("The beginning of an organization's name.")
    list_select_related = ("registry", "created_by")
    list_per_page = 50
    fields = ("name", "registry", "creator", "created_at", "public_id", "grants")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # Each shown organization's grants counted by one correlated subquery over the
        # permission_by_organization index: only the page's rows are counted.
        count = (
            Permission.objects.filter(organization=OuterRef("pk"))
            .order_by()
            .values("organization")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return super().get_queryset(request).annotate(grant_count=Coalesce(Subquery(count), 0))

    def search_condition(self, term: str) -> Q:
        return Q(name__startswith=term)

    @admin.display(description=gettext_lazy("registry"), ordering="registry__name")
    def registry_name(self, organization: Organization) -> str:
        return organization.registry.name

    @admin.display(description=gettext_lazy("created by"))
    def creator(self, organization: Organization) -> str:
        return someone(organization.created_by)

    @admin.display(description=gettext_lazy("permissions"))
    def grants(self, organization: Organization) -> str:
        count = organization.grant_count  # get_queryset's, on the list and the change page
        url = permissions_url(organization=organization.name, registry=organization.registry_id)
        text = ngettext("%(count)d grant", "%(count)d grants", count) % {"count": count}
        return format_html('<a href="{}">{}</a>', url, text)


# --- Permissions ----------------------------------------------------------------------------


class UserFilter(InputFilter):
    title = gettext_lazy("user (username)")
    parameter_name = "user"
    field = "user__username"


class GroupFilter(InputFilter):
    title = gettext_lazy("group (name)")
    parameter_name = "group"
    field = "group__name"
    placeholder = gettext_lazy("exact name")


class OrganizationFilter(InputFilter):
    title = gettext_lazy("organization (name)")
    parameter_name = "organization"
    field = "organization__name"
    placeholder = gettext_lazy("exact name")


class PermissionRegistryFilter(RegistryFilter):
    field = "organization__registry_id"


class LevelFilter(admin.SimpleListFilter):
    title = gettext_lazy("level")
    parameter_name = "level"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(str(level), level_shown(level)) for level in LEVELS]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        chosen = [level for level in LEVELS if str(level) == self.value()]
        return queryset.filter(level=chosen[0]) if chosen else queryset


@functools.cache
def english_levels() -> dict[int, str]:
    """The levels' names for the export: English whatever the page's language, as its columns."""
    with translation.override(None):
        return {level: level_label(level) for level in LEVELS}


@admin.register(Permission)
class PermissionAdmin(ConditionSearch, ReadOnlyAdmin, CsvExportMixin, LargeTableAdmin):
    list_display = (
        "organization_name",
        "registry_name",
        "where",
        "grantee",
        "kind",
        "level_code",
        "granter",
        time_column(Permission, "granted_at"),
        time_column(Permission, "changed_at"),
    )
    list_filter = (
        UserFilter,
        GroupFilter,
        OrganizationFilter,
        PermissionRegistryFilter,
        LevelFilter,
    )
    search_fields = ("repository",)  # shows the box; search_condition does the work
    search_help_text = gettext_lazy(
        "A whole username or group name, an organization's name or its beginning, or a "
        "repository (team-a/app: its grants and its organization's)."
    )
    # Every row's organization, registry, grantee and granter in the page's one query.
    list_select_related = ("organization__registry", "user", "group", "granted_by")
    # The latest changes first, served by the permission_* indexes (one per filter).
    ordering = ("-changed_at", "-id")
    list_per_page = 50
    fields = (
        "organization",
        "registry_name",
        "where",
        "grantee_grants",
        "kind",
        "level_code",
        "granter",
        "granted_at",
        "changed_at",
    )
    readonly_fields = fields
    export_fields = (
        ("organization__registry__address", "Registry"),
        ("organization__name", "Organization"),
        ("repository", "Repository"),
        ("user__username", "User"),
        ("group__name", "Group"),
        ("level", "Level"),
        ("granted_by__username", "Granted By"),
        ("granted_at", "Granted At"),
        ("changed_at", "Changed At"),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # The change page reads the same row: one query there too.
        return super().get_queryset(request).select_related(*self.list_select_related)

    def search_condition(self, term: str) -> Q:
        # Organizations and grantees looked up first (a few rows each): literal id lists let
        # PostgreSQL OR the grants' index scans.
        name, slash, repository = term.partition("/")
        if slash:
            found = Organization.objects.filter(name=name)
            return Q(organization_id__in=_ids(found), repository__in=["", repository])
        found = Organization.objects.filter(name__startswith=term).order_by("name")
        return (
            Q(organization_id__in=_ids(found))
            | Q(user_id__in=_ids(User.objects.filter(username=term)))
            | Q(group_id__in=_ids(Group.objects.filter(name=term)))
        )

    @admin.display(description=gettext_lazy("organization"), ordering="organization__name")
    def organization_name(self, grant: Permission) -> str:
        return grant.organization.name

    @admin.display(description=gettext_lazy("registry"), ordering="organization__registry__name")
    def registry_name(self, grant: Permission) -> str:
        return grant.organization.registry.name

    @admin.display(description=gettext_lazy("repository"), ordering="repository")
    def where(self, grant: Permission) -> str:
        return grant.repository or gettext("Whole organization")

    @admin.display(description=gettext_lazy("grantee"))
    def grantee(self, grant: Permission) -> str:
        return grant.grantee_name

    @admin.display(description=gettext_lazy("grantee"))
    def grantee_grants(self, grant: Permission) -> str:
        kind = {"user": grant.user.get_username()} if grant.user_id else {"group": grant.group.name}
        return format_html(
            '{} (<a href="{}">{}</a>)',
            grant.grantee_name,
            permissions_url(**kind),
            gettext("every grant"),
        )

    @admin.display(description=gettext_lazy("grantee type"))
    def kind(self, grant: Permission) -> str:
        return gettext("User") if grant.user_id else gettext("Group")

    @admin.display(description=gettext_lazy("level"), ordering="level")
    def level_code(self, grant: Permission) -> str:
        return level_shown(grant.level)

    @admin.display(description=gettext_lazy("granted by"))
    def granter(self, grant: Permission) -> str:
        return someone(grant.granted_by)

    def export_header(self) -> list[str]:
        return [
            "Registry",
            "Organization",
            "Repository",  # empty: the whole organization
            "Grantee Type",
            "Grantee",
            "Level",
            "Level Code",  # Huawei's auth: 1, 3, 7
            "Actions",  # what a credential of the grantee may do there: pull,push,delete
            "Granted By",
            "Granted At",
            "Changed At",
        ]

    def export_row(self, row: Iterable[Any]) -> list[Any]:
        registry, organization, repository, user, group, level, *rest = super().export_row(row)
        grantee = ["user", user] if user is not None else ["group", group]
        actions = ",".join(a for a in ("pull", "push", "delete") if a in LEVEL_ACTIONS[level])
        return [
            registry,
            organization,
            repository,
            *grantee,
            english_levels()[level],
            level,
            actions,
            *rest,
        ]


def _ids(queryset: QuerySet) -> list[int]:
    return list(queryset.values_list("pk", flat=True)[:PREFIX_MATCHES])
