"""The Auditors group: staff in it can see every credential and event and change nothing."""

from __future__ import annotations

from django.contrib.auth.management import create_permissions
from django.db import migrations

AUDITORS = "Auditors"
VIEW_PERMISSIONS = [
    ("credentials", "view_longtermcredential"),
    ("credentials", "view_temporarycredential"),
    ("credentials", "view_auditevent"),
    ("credentials", "view_registry"),
    ("credentials", "view_region"),
]


def create_auditors(apps, schema_editor=None):
    # Permissions are normally created after migrate; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=AUDITORS)
    for app_label, codename in VIEW_PERMISSIONS:
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )


def remove_auditors(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=AUDITORS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("credentials", "0002_audit_append_only"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_auditors, remove_auditors)]
