"""Long-term credentials: filters by owner, use and expiry; bulk actions with a reason;
exports."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

from credentials.admin.base import (
    ConditionSearch,
    CsvExportMixin,
    InputFilter,
    LargeTableAdmin,
    audit_link,
    owner_links,
    time_column,
)
from credentials.models import (
    Actor,
    ConsoleError,
    LongTermCredential,
    User,
)
from credentials.timestamps import shown


class AdminReasonForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Recorded in the audit trail with each credential."),
    )


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
        "decision",
        "access",
        "reach",
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

    @admin.display(description=gettext_lazy("reason"))
    def decision(self, credential: LongTermCredential) -> str:
        # The last status change's: an administrator's binding one says so, as its owner reads it.
        if credential.disabled_by_administrator:
            return credential.decision_message()
        return credential.status_reason

    @admin.display(description=gettext_lazy("organizations"))
    def reach(self, credential: LongTermCredential) -> str:
        if credential.all_organizations:
            return _("All")
        names = [org.name for org in credential.organizations.all()]
        # None left: each one it was narrowed to was deleted; it reaches nothing.
        return ", ".join(sorted(names)) or _("None (each one was deleted)")

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
        values = {"when": shown(credential.status_changed_at), "user": by}
        if credential.disabled_by_administrator:  # binding: its owner cannot enable it again
            return _("%(when)s by %(user)s (administrator)") % values
        return _("%(when)s by %(user)s") % values

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
                    changed += action(by=by, reason=reason, administrator=True)
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
