from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from credentials.models import Region, Registry, User


@admin.register(User)
class ConsoleUserAdmin(UserAdmin):
    list_display = ("username", "email", "is_staff", "is_active", "is_federated")
    list_filter = ("is_staff", "is_superuser", "is_active", "is_federated", "groups")
    fieldsets = (
        *UserAdmin.fieldsets,
        ("Federation", {"fields": ("is_federated",)}),
    )


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("name", "display_name")
    search_fields = ("name", "display_name")


@admin.register(Registry)
class RegistryAdmin(admin.ModelAdmin):
    list_display = ("name", "region", "address", "project_name", "created_at")
    list_filter = ("region",)
    search_fields = ("name", "address", "project_name")
    readonly_fields = ("public_id", "created_at")
