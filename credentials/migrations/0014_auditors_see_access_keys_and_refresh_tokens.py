"""Auditors see access keys and registry refresh tokens too: both are credentials."""

from __future__ import annotations

from django.contrib.auth.management import create_permissions
from django.db import migrations

AUDITORS = "Auditors"
CODENAMES = ["view_accesskey", "view_refreshtoken"]


def grant(apps, schema_editor=None):
    credentials = apps.get_app_config("credentials")
    credentials.models_module = True  # permissions are normally created after migrate
    create_permissions(credentials, apps=apps, verbosity=0)
    credentials.models_module = None
    group = apps.get_model("auth", "Group").objects.filter(name=AUDITORS).first()
    if group is not None:  # an operator who removed the group chose to have none
        permissions = apps.get_model("auth", "Permission").objects.filter(
            content_type__app_label="credentials", codename__in=CODENAMES
        )
        group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.filter(name=AUDITORS).first()
    if group is not None:
        group.permissions.remove(*group.permissions.filter(codename__in=CODENAMES))


class Migration(migrations.Migration):
    dependencies = [
        ("credentials", "0013_registry_refresh_tokens"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
