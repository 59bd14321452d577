"""Users (signing them out everywhere; deleting one audits who did it), regions and
registries."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

from credentials.admin.base import (
    SecretFieldsRefused,
)
from credentials.models import (
    Actor,
    AuditEvent,
    Region,
    Registry,
    User,
)
from credentials.signals import deleting_actor

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
