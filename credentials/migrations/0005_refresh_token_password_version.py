"""Refresh tokens bound to the password version they were issued under (issue 23, item 1).

Existing rows: a credential that was ever reset is at version 1, its tokens issued since the
reset too; its tokens from before are the previous version, kept while that password's overlap
lasts and deleted otherwise (they were already refused). Temporary credentials' tokens have no
version.
"""

from django.db import migrations, models
from django.db.models import F, Q
from django.utils import timezone


def number_the_passwords(apps, schema_editor):
    # Through the migrating connection (prepare_database migrates as the owner role): the
    # default one, the runtime role's, would wait on the tables this transaction altered.
    using = schema_editor.connection.alias
    LongTermCredential = apps.get_model("credentials", "LongTermCredential")
    RefreshToken = apps.get_model("credentials", "RefreshToken")
    LongTermCredential.objects.using(using).filter(password_reset_at__isnull=False).update(
        password_version=1
    )
    long_term = RefreshToken.objects.using(using).filter(long_term__isnull=False)
    long_term.update(password_version=0)
    reset = long_term.filter(long_term__password_reset_at__isnull=False)
    reset.filter(created_at__gte=F("long_term__password_reset_at")).update(password_version=1)
    reset.filter(created_at__lt=F("long_term__password_reset_at")).filter(
        Q(long_term__previous_password_until__isnull=True)
        | Q(long_term__previous_password_until__lte=timezone.now())
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("credentials", "0004_registry_address_validated"),
    ]

    operations = [
        migrations.AddField(
            model_name="longtermcredential",
            name="password_version",
            field=models.PositiveIntegerField(
                db_default=0, default=0, editable=False, verbose_name="password version"
            ),
        ),
        migrations.AddField(
            model_name="refreshtoken",
            name="password_version",
            field=models.PositiveIntegerField(
                blank=True, editable=False, null=True, verbose_name="password version"
            ),
        ),
        migrations.RunPython(number_the_passwords, migrations.RunPython.noop),
    ]
