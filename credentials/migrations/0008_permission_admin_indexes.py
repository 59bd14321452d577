"""The admin's Permissions list at 100,000 grants (issue 24): the latest changes first, on their
own, within one organization and within one level, each read off an index. The organization's
also serves every lookup of an organization's grants, which the partial unique constraints
(to a user, to a group) cannot."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('auth', '0012_alter_user_first_name_max_length'),
        ('credentials', '0007_audit_time_from_database'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='permission',
            index=models.Index(fields=['-changed_at', '-id'], name='permission_newest'),
        ),
        migrations.AddIndex(
            model_name='permission',
            index=models.Index(fields=['organization', '-changed_at', '-id'], name='permission_by_organization'),
        ),
        migrations.AddIndex(
            model_name='permission',
            index=models.Index(fields=['level', '-changed_at', '-id'], name='permission_by_level'),
        ),
    ]
