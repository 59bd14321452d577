"""The admin panel: where auditors see every credential and every action on it.

Nothing here shows a password or digest. Audit events are read-only for everyone; changes to
credentials go through the same domain actions as the console, so they are audited too.
"""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

from credentials.admin_base import (
    ConditionSearch,
    CsvExportMixin,
    InputFilter,
    LargeTableAdmin,
    SecretFieldsRefused,
    ViewOnlyMixin,
    audit_link,
    owner_links,
    time_column,
)
from credentials.console.forms import AdminReasonForm
from credentials.models import (
    AccessKey,
    Actor,
    AuditEvent,
    ConsoleError,
    LongTermCredential,
    RefreshToken,
    Region,
    Registry,
    TemporaryCredential,
    User,
)
from credentials.signals import deleting_actor
from credentials.timestamps import shown

admin.site.site_header = gettext_lazy("SWR Console administration")
admin.site.site_title = gettext_lazy("SWR Console admin")
admin.site.index_title = gettext_lazy("Credentials, registries and the audit trail")
# No navigation sidebar: at 1440 px it would leave the credential and audit lists too little
# width for their columns (the index page lists every model; breadcrumbs lead back to it).
admin.site.enable_nav_sidebar = False
# Prefix search lists at most this many owners or actors whose names start with the term.
PREFIX_MATCHES = 100


# --- Long-term credentials ----------------------------------------------------------


class OwnerFilter(InputFilter):
    title = gettext_lazy("owner (username)")
    parameter_name = "owner"
    field = "owner__username"


class NeverUsedFilter(admin.SimpleListFilter):
    """Use, and staleness: "not used for N days" counts a credential never used since it was
    created N days ago too (the rule DISABLE_UNUSED_AFTER_DAYS applies)."""

    title = _("use")
    parameter_name = "used"
    STALE_DAYS = (30, 90)

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        stale = [
            (str(days), _("Not used for %(days)d days") % {"days": days})
            for days in self.STALE_DAYS
        ]
        return [("never", _("Never used")), ("yes", _("Used")), *stale]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value == "never":
            return queryset.filter(last_used_at__isnull=True)
        if value == "yes":
            return queryset.filter(last_used_at__isnull=False)
        if value in {str(days) for days in self.STALE_DAYS}:
            return queryset.unused_since(timezone.now() - timedelta(days=int(value)))
        return queryset


class ExpiryFilter(admin.SimpleListFilter):
    title = _("expiry")
    parameter_name = "expiry"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("never", _("Never expires")),
            ("expired", _("Expired")),
            ("7", _("Expires within 7 days")),
            ("30", _("Expires within 30 days")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        now = timezone.now()
        value = self.value()
        if value == "never":
            return queryset.filter(expires_at__isnull=True)
        if value == "expired":
            return queryset.filter(expires_at__lte=now)
        if value in ("7", "30"):
            return queryset.filter(
                expires_at__gt=now, expires_at__lte=now + timedelta(days=int(value))
            )
        return queryset


@admin.register(LongTermCredential)
class LongTermCredentialAdmin(ConditionSearch, CsvExportMixin, LargeTableAdmin):
    list_display = (
        "name",
        "owner",
        "registry_name",
        "username",
        "status",
        time_column(LongTermCredential, "created_at"),
        time_column(LongTermCredential, "expires_at"),
        time_column(LongTermCredential, "last_used_at"),
        "disabled",
    )
    list_filter = (
        ("is_enabled", admin.BooleanFieldListFilter),
        "registry",
        OwnerFilter,
        ("owner__is_federated", admin.BooleanFieldListFilter),
        ("created_at", admin.DateFieldListFilter),
        ExpiryFilter,
        NeverUsedFilter,
    )
    search_help_text = gettext_lazy(
        "The beginning of a credential name or of an owner's username, or a whole "
        "username (cn-north-4@…)."
    )
    search_fields = ("name", "username", "owner__username")
    date_hierarchy = "created_at"
    list_select_related = ("owner", "registry", "status_changed_by")
    list_per_page = 50
    # Owner and changer as links to lists every viewer may open (a user's admin page would
    # be a 403 for Auditors, who may not view users).
    fields = (
        "name",
        "owner_credentials",
        "registry",
        "username",
        "status",
        "created_at",
        "expires_at",
        "last_used_at",
        "password_reset_at",
        "previous_password_until",
        "status_changed_at",
        "status_changed_by_events",
        "public_id",
        "events",
    )
    readonly_fields = fields
    actions = ("disable_selected", "enable_selected")
    export_fields = (
        ("name", "Credential Name"),
        ("owner__username", "Owner"),
        ("registry__address", "Registry"),
        ("username", "Username"),
        ("is_enabled", "Enabled"),
        ("created_at", "Created At"),
        ("expires_at", "Expires At"),
        ("last_used_at", "Last Used At"),
        ("status_changed_at", "Status Changed At"),
        ("status_changed_by__username", "Status Changed By"),
        ("public_id", "Public ID"),
    )

    def search_condition(self, term: str) -> Q:
        # Prefixes of indexed columns (varchar_pattern_ops indexes serve LIKE 'term%' in any
        # collation), no join: instant at 100,000 credentials.
        # Owner ids are looked up first: a literal list lets PostgreSQL OR three index scans.
        owners = list(
            User.objects.filter(username__startswith=term)
            .order_by("username")
            .values_list("pk", flat=True)[:PREFIX_MATCHES]
        )
        # Usernames exactly: the token service's lookup keeps their one unique index.
        return Q(name__startswith=term) | Q(username=term) | Q(owner_id__in=owners)

    @admin.display(description=gettext_lazy("registry"), ordering="registry")
    def registry_name(self, credential: LongTermCredential) -> str:
        # The name only: the address (in the registry filter) would push columns off screen.
        return credential.registry.name

    @admin.display(description=gettext_lazy("owner"))
    def owner_credentials(self, credential: LongTermCredential) -> str:
        return owner_links(credential.owner.get_username())

    @admin.display(description=gettext_lazy("status changed by"))
    def status_changed_by_events(self, credential: LongTermCredential) -> str:
        by = credential.status_changed_by
        return owner_links(by.get_username()) if by else ""

    @admin.display(description=gettext_lazy("status"), ordering="is_enabled")
    def status(self, credential: LongTermCredential) -> str:
        return credential.status_label

    @admin.display(description=gettext_lazy("disabled at / by"))
    def disabled(self, credential: LongTermCredential) -> str:
        if credential.is_enabled or not credential.status_changed_at:
            return ""
        # No user: the scheduled command (DISABLE_UNUSED_AFTER_DAYS), or a deleted account.
        by = (
            credential.status_changed_by.get_username()
            if credential.status_changed_by
            else _("system")
        )
        return _("%(when)s by %(user)s") % {
            "when": shown(credential.status_changed_at),
            "user": by,
        }

    @admin.display(description=gettext_lazy("audit events"))
    def events(self, credential: LongTermCredential) -> str:
        return audit_link(_("Audit events"), credential_public_id=credential.public_id)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # created by its owner on the console, with the one-time CSV

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def delete_model(self, request: HttpRequest, obj: LongTermCredential) -> None:
        obj.delete_by(by=Actor.from_request(request), reason="deleted in the admin panel")

    def _change_status(
        self, request: HttpRequest, queryset: QuerySet, *, enable: bool
    ) -> TemplateResponse | None:
        verb = "enable" if enable else "disable"
        form = AdminReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            by = Actor.from_request(request)
            reason = form.cleaned_data["reason"]
            changed = refused = 0
            for credential in queryset.select_related("registry"):
                action = credential.enable if enable else credential.disable
                try:
                    changed += action(by=by, reason=reason)
                except ConsoleError:  # expired: cannot be enabled again
                    refused += 1
            unchanged = queryset.count() - changed - refused
            done = (
                _("%(changed)d credential(s) enabled; %(unchanged)d already were.")
                if enable
                else _("%(changed)d credential(s) disabled; %(unchanged)d already were.")
            )
            self.message_user(
                request, done % {"changed": changed, "unchanged": unchanged}, messages.SUCCESS
            )
            if refused:
                self.message_user(
                    request,
                    _(
                        "%(count)d expired credential(s) not enabled: an expired credential "
                        "cannot be enabled again."
                    )
                    % {"count": refused},
                    messages.WARNING,
                )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Enable credentials") if enable else _("Disable credentials"),
            "verb": verb,
            "action": f"{verb}_selected",
            "credentials": queryset.select_related("owner")[:200],
            "count": queryset.count(),
            "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
            "form": form,
            "opts": self.opts,
        }
        return TemplateResponse(request, "admin/credentials/reason_action.html", context)

    @admin.action(description=gettext_lazy("Disable selected credentials"), permissions=["change"])
    def disable_selected(self, request: HttpRequest, queryset: QuerySet) -> TemplateResponse | None:
        return self._change_status(request, queryset, enable=False)

    @admin.action(description=gettext_lazy("Enable selected credentials"), permissions=["change"])
    def enable_selected(self, request: HttpRequest, queryset: QuerySet) -> TemplateResponse | None:
        return self._change_status(request, queryset, enable=True)


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


@admin.register(TemporaryCredential)
class TemporaryCredentialAdmin(SecretFieldsRefused, ViewOnlyMixin, LargeTableAdmin):
    list_display = (
        "username",
        "user",
        "project_name",
        time_column(TemporaryCredential, "created_at"),
        time_column(TemporaryCredential, "expires_at"),
    )
    list_filter = ("project_name", ("expires_at", admin.DateFieldListFilter))
    search_fields = ("=username", "=user__username")
    list_select_related = ("user",)
    fields = ("username", "user", "project_name", "created_at", "expires_at", "public_id")
    readonly_fields = fields


@admin.register(RefreshToken)
class RefreshTokenAdmin(SecretFieldsRefused, ViewOnlyMixin, LargeTableAdmin):
    """Offline access that registry clients hold (docker's config.json, containerd): for which
    credential and registry, until when. The token itself is only a digest, never shown; to end
    one, disable or delete its credential, which removes its tokens."""

    list_display = (
        "credential",
        "service",
        time_column(RefreshToken, "created_at"),
        time_column(RefreshToken, "expires_at"),
    )
    list_select_related = ("long_term__owner", "temporary__user")
    ordering = ("-id",)
    fields = ("credential", "service", "created_at", "expires_at")
    readonly_fields = fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=gettext_lazy("credential"))
    def credential(self, token: RefreshToken) -> str:
        if token.long_term is not None:
            credential = token.long_term
            return f"{credential.name} ({credential.username}, {credential.owner})"
        temporary = token.temporary
        return _("%(username)s (temporary, %(owner)s)") % {
            "username": temporary.username,
            "owner": temporary.user,
        }


@admin.register(AccessKey)
class AccessKeyAdmin(SecretFieldsRefused, ViewOnlyMixin, admin.ModelAdmin):
    """Read-only: keys are created, disabled and deleted by their users on My Credentials.
    The encrypted secret key is not a field here."""

    list_display = ("access_key_id", "user", "is_enabled", "created_at")
    list_filter = ("is_enabled",)
    search_fields = ("=access_key_id", "=user__username")
    list_select_related = ("user",)
    fields = ("access_key_id", "user", "is_enabled", "created_at", "public_id")
    readonly_fields = fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- Users, regions, registries -----------------------------------------------------


@admin.register(User)
class ConsoleUserAdmin(SecretFieldsRefused, UserAdmin):
    list_display = ("username", "email", "is_staff", "is_active", "is_federated")
    list_filter = ("is_staff", "is_superuser", "is_active", "is_federated", "groups")
    fieldsets = (
        *UserAdmin.fieldsets,
        (gettext_lazy("Federation"), {"fields": ("is_federated",)}),
    )
    actions = ("end_sessions",)

    # Deleting a user deletes their credentials; the signal that audits it names who did it.
    def delete_model(self, request: HttpRequest, obj: User) -> None:
        token = deleting_actor.set(Actor.from_request(request))
        try:
            super().delete_model(request, obj)
        finally:
            deleting_actor.reset(token)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        token = deleting_actor.set(Actor.from_request(request))
        try:
            super().delete_queryset(request, queryset)
        finally:
            deleting_actor.reset(token)

    @admin.action(
        description=gettext_lazy("Sign selected users out everywhere"), permissions=["change"]
    )
    def end_sessions(self, request: HttpRequest, queryset: QuerySet) -> None:
        actor = Actor.from_request(request)
        for user in queryset:
            user.end_sessions()
            AuditEvent.record(AuditEvent.Action.SESSIONS_ENDED, actor, user=user.get_username())
        self.message_user(
            request,
            _("Signed %(count)d user(s) out of every session.") % {"count": queryset.count()},
            messages.SUCCESS,
        )


@admin.register(Region)
class RegionAdmin(SecretFieldsRefused, admin.ModelAdmin):
    list_display = ("name", "display_name")
    search_fields = ("name", "display_name")


@admin.register(Registry)
class RegistryAdmin(SecretFieldsRefused, admin.ModelAdmin):
    list_display = ("name", "region", "address", "project_name", "created_at")
    list_filter = ("region",)
    search_fields = ("name", "address", "project_name")
    readonly_fields = ("public_id", "created_at")
