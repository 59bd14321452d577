"""What users hold and only they change: temporary logins, refresh tokens, access keys —
read-only tables that never show a secret."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

from credentials.admin.base import (
    LargeTableAdmin,
    SecretFieldsRefused,
    ViewOnlyMixin,
    time_column,
)
from credentials.models import (
    AccessKey,
    RefreshToken,
    TemporaryCredential,
)


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
