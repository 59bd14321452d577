"""Organizations and permissions (issue 24): organizations of a registry, grants of Read (1),
Edit (3) or Manage (7) to a user or a group on an organization or one repository in it, and
on each long-term credential its narrowing (access, organizations) and whether an
administrator disabled it. Beyond the tables: the Registry Administrators group (Manage
everywhere), and the Auditors' view of organizations and permissions.
"""

import credentials.rules
import django.db.models.deletion
import django.utils.timezone
import uuid
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

REGISTRY_ADMINISTRATORS = "Registry Administrators"
AUDITORS = "Auditors"


def create_groups(apps, schema_editor):
    # On the migrating connection (the owner's, under prepare_database): another would wait
    # for this migration's locks (the new foreign keys lock auth_group) and never see its tables.
    db = schema_editor.connection.alias
    for app_config in apps.get_app_configs():  # permissions are normally created after migrate
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=db)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Group.objects.using(db).get_or_create(name=REGISTRY_ADMINISTRATORS)
    auditors = Group.objects.using(db).filter(name=AUDITORS).first()
    if auditors is not None:
        auditors.permissions.add(
            *apps.get_model("auth", "Permission").objects.using(db).filter(
                content_type__app_label="credentials",
                codename__in=["view_organization", "view_permission"],
            )
        )

class Migration(migrations.Migration):

    dependencies = [
        ('auth', '0012_alter_user_first_name_max_length'),
        ('credentials', '0005_refresh_token_password_version'),
    ]

    operations = [
        migrations.CreateModel(
            name='Organization',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('public_id', models.UUIDField(default=uuid.uuid4, editable=False, unique=True, verbose_name='public id')),
                ('name', models.CharField(max_length=64, verbose_name='name')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='created at')),
            ],
            options={
                'verbose_name': 'organization',
                'verbose_name_plural': 'organizations',
                'ordering': ['name'],
            },
        ),
        migrations.CreateModel(
            name='Permission',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('repository', models.CharField(blank=True, default='', help_text='Empty: the whole organization.', max_length=255, verbose_name='repository')),
                ('level', models.PositiveSmallIntegerField(choices=credentials.rules.level_choices, verbose_name='level')),
                ('granted_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='granted at')),
                ('changed_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='changed at')),
            ],
            options={
                'verbose_name': 'permission',
                'verbose_name_plural': 'permissions',
                'ordering': ['organization', 'repository', '-level', 'id'],
            },
        ),
        migrations.AddField(
            model_name='longtermcredential',
            name='access',
            field=models.CharField(choices=credentials.rules.access_choices, db_default='inherit', default='inherit', editable=False, max_length=8, verbose_name='access'),
        ),
        migrations.AddField(
            model_name='longtermcredential',
            name='all_organizations',
            field=models.BooleanField(db_default=True, default=True, editable=False, verbose_name='all organizations'),
        ),
        migrations.AddField(
            model_name='longtermcredential',
            name='disabled_by_administrator',
            field=models.BooleanField(db_default=False, default=False, editable=False, verbose_name='disabled by an administrator'),
        ),
        migrations.AddField(
            model_name='longtermcredential',
            name='status_reason',
            field=models.CharField(blank=True, db_default='', default='', editable=False, max_length=500, verbose_name='reason'),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='action',
            field=models.CharField(choices=[('long_term.created', 'Long-term credential created'), ('long_term.disabled', 'Long-term credential disabled'), ('long_term.enabled', 'Long-term credential enabled'), ('long_term.deleted', 'Long-term credential deleted'), ('long_term.password_reset', 'Long-term credential password reset'), ('temporary.issued', 'Temporary credential issued'), ('temporary.minted', 'Temporary credential minted (built-in SWR API)'), ('temporary.deleted', 'Temporary credential deleted (with its user)'), ('console.sign_in', 'Console sign-in'), ('console.sign_in_failed', 'Console sign-in failed'), ('console.sessions_ended', 'Console sessions ended'), ('console.password_changed', 'Console password changed'), ('registry.login_failed', 'Registry login failed'), ('access_key.created', 'Access key created'), ('access_key.disabled', 'Access key disabled'), ('access_key.enabled', 'Access key enabled'), ('access_key.deleted', 'Access key deleted'), ('api.request_refused', 'API request refused'), ('organization.created', 'Organization created'), ('organization.deleted', 'Organization deleted'), ('permission.granted', 'Permission granted'), ('permission.changed', 'Permission changed'), ('permission.revoked', 'Permission revoked')], max_length=32, verbose_name='action'),
        ),
        migrations.AddField(
            model_name='organization',
            name='created_by',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='created by'),
        ),
        migrations.AddField(
            model_name='organization',
            name='registry',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='organizations', to='credentials.registry', verbose_name='registry'),
        ),
        migrations.AddField(
            model_name='longtermcredential',
            name='organizations',
            field=models.ManyToManyField(blank=True, related_name='narrowed_credentials', to='credentials.organization', verbose_name='organizations'),
        ),
        migrations.AddField(
            model_name='permission',
            name='granted_by',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='granted by'),
        ),
        migrations.AddField(
            model_name='permission',
            name='group',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='organization_permissions', to='auth.group', verbose_name='group'),
        ),
        migrations.AddField(
            model_name='permission',
            name='organization',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='permissions', to='credentials.organization', verbose_name='organization'),
        ),
        migrations.AddField(
            model_name='permission',
            name='user',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='organization_permissions', to=settings.AUTH_USER_MODEL, verbose_name='user'),
        ),
        migrations.AddConstraint(
            model_name='organization',
            constraint=models.UniqueConstraint(fields=('registry', 'name'), name='organization_name_per_registry'),
        ),
        migrations.AddConstraint(
            model_name='permission',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('group__isnull', True), ('user__isnull', False)), models.Q(('group__isnull', False), ('user__isnull', True)), _connector='OR'), name='permission_user_or_group'),
        ),
        migrations.AddConstraint(
            model_name='permission',
            constraint=models.CheckConstraint(condition=models.Q(('level__in', (1, 3, 7))), name='permission_level_valid'),
        ),
        migrations.AddConstraint(
            model_name='permission',
            constraint=models.UniqueConstraint(condition=models.Q(('user__isnull', False)), fields=('organization', 'user', 'repository'), name='permission_per_user'),
        ),
        migrations.AddConstraint(
            model_name='permission',
            constraint=models.UniqueConstraint(condition=models.Q(('group__isnull', False)), fields=('organization', 'group', 'repository'), name='permission_per_group'),
        ),
        migrations.RunPython(create_groups, migrations.RunPython.noop),
    ]
