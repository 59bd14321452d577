"""The schema as of 0015, in one migration: it replaces 0001_initial through 0015_user_language.

A new database is created by this migration alone. A database on which all fifteen were applied
takes it as applied (Django reads `replaces`), and migrates on from here. One stopped partway
through them is refused by `migrate` (credentials/management/commands/migrate.py): it is brought to
0015 first by the release that still has those migrations (docs/DECISIONS.md, "Migrations squashed").

Beyond the tables, three things the models cannot say, in this order:
- the audit table is append-only (a trigger refuses UPDATE and DELETE, whoever runs them);
- each audit event is chained to the one before by a hash (credentials/security/audit_chain.py);
- the Auditors group: staff in it can see every credential and event and change nothing.
"""

import uuid

import django.contrib.auth.validators
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

import credentials.models.users
from credentials.security import audit_chain


APPEND_ONLY = """
CREATE OR REPLACE FUNCTION credentials_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only: % on credentials_auditevent is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER credentials_auditevent_append_only
    BEFORE UPDATE OR DELETE ON credentials_auditevent
    FOR EACH ROW EXECUTE FUNCTION credentials_auditevent_append_only();
"""

DROP_APPEND_ONLY = """
DROP TRIGGER IF EXISTS credentials_auditevent_append_only ON credentials_auditevent;
DROP FUNCTION IF EXISTS credentials_auditevent_append_only();
"""


def protect_audit_trail(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY, params=None)
        schema_editor.execute(audit_chain.TRIGGER, params=None)


def unprotect_audit_trail(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(audit_chain.DROP, params=None)
        schema_editor.execute(DROP_APPEND_ONLY, params=None)


AUDITORS = "Auditors"
AUDITOR_PERMISSIONS = [
    "view_accesskey",
    "view_auditevent",
    "view_longtermcredential",
    "view_refreshtoken",
    "view_region",
    "view_registry",
    "view_temporarycredential",
]


def create_auditors(apps, schema_editor=None):
    for app_config in apps.get_app_configs():  # permissions are normally created after migrate
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name=AUDITORS)
    group.permissions.add(
        *apps.get_model("auth", "Permission").objects.filter(
            content_type__app_label="credentials", codename__in=AUDITOR_PERMISSIONS
        )
    )


def remove_auditors(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=AUDITORS).delete()


class Migration(migrations.Migration):

    initial = True

    replaces = [
        ('credentials', '0001_initial'),
        ('credentials', '0002_audit_append_only'),
        ('credentials', '0003_auditors'),
        ('credentials', '0004_user_session_generation'),
        ('credentials', '0005_user_credentials_version'),
        ('credentials', '0006_drop_redundant_key_indexes'),
        ('credentials', '0007_username_unique_without_like_index'),
        ('credentials', '0008_access_keys_and_api_channel'),
        ('credentials', '0009_audit_temporary_deleted'),
        ('credentials', '0010_credential_lifecycle'),
        ('credentials', '0011_audit_hash_chain'),
        ('credentials', '0012_admin_prefix_search'),
        ('credentials', '0013_registry_refresh_tokens'),
        ('credentials', '0014_auditors_see_access_keys_and_refresh_tokens'),
        ('credentials', '0015_user_language'),
    ]

    dependencies = [
        ('auth', '0012_alter_user_first_name_max_length'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.CreateModel(
            name='Region',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.SlugField(help_text='For example cn-north-4.', max_length=64, unique=True)),
                ('display_name', models.CharField(blank=True, max_length=100)),
            ],
            options={
                'ordering': ['name'],
            },
        ),
        migrations.CreateModel(
            name='User',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('password', models.CharField(max_length=128, verbose_name='password')),
                ('last_login', models.DateTimeField(blank=True, null=True, verbose_name='last login')),
                ('is_superuser', models.BooleanField(default=False, help_text='Designates that this user has all permissions without explicitly assigning them.', verbose_name='superuser status')),
                ('username', models.CharField(error_messages={'unique': 'A user with that username already exists.'}, help_text='Required. 150 characters or fewer. Letters, digits and @/./+/-/_ only.', max_length=150, unique=True, validators=[django.contrib.auth.validators.UnicodeUsernameValidator()], verbose_name='username')),
                ('first_name', models.CharField(blank=True, max_length=150, verbose_name='first name')),
                ('last_name', models.CharField(blank=True, max_length=150, verbose_name='last name')),
                ('email', models.EmailField(blank=True, max_length=254, verbose_name='email address')),
                ('is_staff', models.BooleanField(default=False, help_text='Designates whether the user can log into this admin site.', verbose_name='staff status')),
                ('is_active', models.BooleanField(default=True, help_text='Designates whether this user should be treated as active. Unselect this instead of deleting accounts.', verbose_name='active')),
                ('date_joined', models.DateTimeField(default=django.utils.timezone.now, verbose_name='date joined')),
                ('is_federated', models.BooleanField(default=False, help_text='Federated users sign in through an identity provider and cannot create or use long-term credentials.', verbose_name='federated')),
                ('session_generation', models.PositiveIntegerField(default=0, editable=False, help_text="Signed into every session: raising it ends all of the user's sessions.")),
                ('credentials_version', models.PositiveBigIntegerField(default=0, editable=False, help_text="Raised with every change to the user's long-term credentials (their Last Used included): the key under which their tab's rendered page is cached.")),
                ('credentials_deadline', models.DateTimeField(editable=False, help_text="The next moment the user's credentials change with time alone; empty when it is to be worked out again.", null=True)),
                ('credentials_expiring_soon', models.BooleanField(db_default=False, default=False, editable=False, help_text="Whether an enabled credential of the user expires within the banner's week; true until credentials_deadline.")),
                ('language', models.CharField(blank=True, db_default='', default='', editable=False, help_text='The language the user last chose or signed in to the console in, that of their e-mails; empty: LANGUAGE_CODE.', max_length=16)),
                ('groups', models.ManyToManyField(blank=True, help_text='The groups this user belongs to. A user will get all permissions granted to each of their groups.', related_name='user_set', related_query_name='user', to='auth.group', verbose_name='groups')),
                ('user_permissions', models.ManyToManyField(blank=True, help_text='Specific permissions for this user.', related_name='user_set', related_query_name='user', to='auth.permission', verbose_name='user permissions')),
            ],
            options={
                'verbose_name': 'user',
                'verbose_name_plural': 'users',
                'abstract': False,
            },
            managers=[
                ('objects', credentials.models.users.ConsoleUserManager()),
            ],
        ),
        migrations.CreateModel(
            name='AccessKey',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('public_id', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ('access_key_id', models.CharField(max_length=20, unique=True, verbose_name='access key ID')),
                ('secret_ciphertext', models.TextField(editable=False)),
                ('is_enabled', models.BooleanField(default=True, verbose_name='enabled')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='access_keys', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'access key',
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='Registry',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('public_id', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ('name', models.CharField(max_length=64)),
                ('address', models.CharField(help_text='Host (and port) clients log in to, e.g. swr.cn-north-4.myhuaweicloud.com. It is also the `service` the registry names in token requests.', max_length=255, unique=True)),
                ('project_name', models.CharField(blank=True, help_text='Upstream SWR project; defaults to the region name.', max_length=64)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ('region', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='registries', to='credentials.region')),
            ],
            options={
                'verbose_name_plural': 'registries',
                'ordering': ['name'],
            },
        ),
        migrations.CreateModel(
            name='LongTermCredential',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('public_id', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ('name', models.CharField(max_length=64)),
                ('username', models.CharField(max_length=96)),
                ('password_digest', models.CharField(editable=False, max_length=64)),
                ('is_enabled', models.BooleanField(default=True, verbose_name='enabled')),
                ('status_changed_at', models.DateTimeField(blank=True, editable=False, null=True)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ('last_used_at', models.DateTimeField(blank=True, editable=False, null=True)),
                ('owner', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='long_term_credentials', to=settings.AUTH_USER_MODEL)),
                ('status_changed_by', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('registry', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='long_term_credentials', to='credentials.registry')),
                ('expires_at', models.DateTimeField(blank=True, editable=False, null=True)),
                ('password_reset_at', models.DateTimeField(blank=True, editable=False, null=True)),
                ('previous_password_digest', models.CharField(blank=True, db_default='', default='', editable=False, max_length=64)),
                ('previous_password_until', models.DateTimeField(blank=True, editable=False, null=True)),
            ],
            options={
                'verbose_name': 'long-term credential',
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='AuditEvent',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ('action', models.CharField(choices=[('long_term.created', 'Long-term credential created'), ('long_term.disabled', 'Long-term credential disabled'), ('long_term.enabled', 'Long-term credential enabled'), ('long_term.deleted', 'Long-term credential deleted'), ('long_term.password_reset', 'Long-term credential password reset'), ('temporary.issued', 'Temporary credential issued'), ('temporary.minted', 'Temporary credential minted (built-in SWR API)'), ('temporary.deleted', 'Temporary credential deleted (with its user)'), ('console.sign_in', 'Console sign-in'), ('console.sign_in_failed', 'Console sign-in failed'), ('console.sessions_ended', 'Console sessions ended'), ('registry.login_failed', 'Registry login failed'), ('access_key.created', 'Access key created'), ('access_key.disabled', 'Access key disabled'), ('access_key.enabled', 'Access key enabled'), ('access_key.deleted', 'Access key deleted'), ('api.request_refused', 'API request refused')], max_length=32)),
                ('actor_username', models.CharField(blank=True, max_length=150, verbose_name='actor')),
                ('ip_address', models.GenericIPAddressField(blank=True, null=True, verbose_name='IP address')),
                ('user_agent', models.CharField(blank=True, max_length=512)),
                ('registry_address', models.CharField(blank=True, max_length=255, verbose_name='registry')),
                ('credential_public_id', models.UUIDField(blank=True, null=True)),
                ('credential_name', models.CharField(blank=True, max_length=64)),
                ('credential_username', models.CharField(blank=True, max_length=150)),
                ('detail', models.JSONField(blank=True, default=dict)),
                ('actor', models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('registry', models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='credentials.registry')),
                ('channel', models.CharField(choices=[('console', 'Console'), ('api', 'API'), ('system', 'System (scheduled command)')], default='console', max_length=16)),
                ('chain_seq', models.BigIntegerField(blank=True, editable=False, null=True, unique=True)),
                ('hash', models.CharField(blank=True, default='', editable=False, max_length=64)),
                ('prev_hash', models.CharField(blank=True, default='', editable=False, max_length=64)),
            ],
            options={
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='TemporaryCredential',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('public_id', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ('project_name', models.CharField(max_length=64)),
                ('username', models.CharField(max_length=96)),
                ('password_digest', models.CharField(editable=False, max_length=64)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ('expires_at', models.DateTimeField(db_index=True)),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='temporary_credentials', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'temporary credential (built-in)',
                'verbose_name_plural': 'temporary credentials (built-in)',
                'ordering': ['-created_at'],
            },
        ),
        migrations.CreateModel(
            name='RefreshToken',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('digest', models.CharField(editable=False, max_length=64)),
                ('service', models.CharField(max_length=255)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ('expires_at', models.DateTimeField(db_index=True)),
                ('long_term', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='refresh_tokens', to='credentials.longtermcredential')),
                ('temporary', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='refresh_tokens', to='credentials.temporarycredential')),
            ],
            options={
                'verbose_name': 'registry refresh token',
            },
        ),
        migrations.CreateModel(
            name='CredentialReminder',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(max_length=16)),
                ('expires_at', models.DateTimeField()),
                ('sent_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('credential', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='reminders', to='credentials.longtermcredential')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('credential', 'kind'), name='one_reminder_per_kind')],
            },
        ),
        migrations.AddConstraint(
            model_name='registry',
            constraint=models.UniqueConstraint(fields=('region', 'name'), name='registry_name_per_region'),
        ),
        migrations.AddIndex(
            model_name='longtermcredential',
            index=models.Index(fields=['owner', 'registry', '-created_at', '-id'], name='credential_tab_order'),
        ),
        migrations.AddIndex(
            model_name='longtermcredential',
            index=models.Index(fields=['-created_at', '-id'], name='credential_newest_first'),
        ),
        migrations.AddIndex(
            model_name='longtermcredential',
            index=models.Index(fields=['registry', '-created_at', '-id'], name='credential_by_registry'),
        ),
        migrations.AddIndex(
            model_name='longtermcredential',
            index=models.Index(fields=['name'], name='credential_by_name'),
        ),
        migrations.AddIndex(
            model_name='longtermcredential',
            index=models.Index(fields=['name'], name='credential_name_prefix', opclasses=['varchar_pattern_ops']),
        ),
        migrations.AddIndex(
            model_name='longtermcredential',
            index=models.Index(fields=['is_enabled', 'last_used_at'], name='credential_by_status_use'),
        ),
        migrations.AddIndex(
            model_name='longtermcredential',
            index=models.Index(condition=models.Q(('expires_at__isnull', False)), fields=['expires_at'], name='credential_by_expiry'),
        ),
        migrations.AddConstraint(
            model_name='longtermcredential',
            constraint=models.UniqueConstraint(fields=('username',), name='long_term_username_unique'),
        ),
        migrations.AddConstraint(
            model_name='longtermcredential',
            constraint=models.UniqueConstraint(fields=('owner', 'registry', 'name'), name='credential_name_per_owner_registry'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['-created_at', '-id'], name='audit_newest_first'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['action', '-created_at', '-id'], name='audit_by_action'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['actor_username', '-created_at', '-id'], name='audit_by_actor'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['registry', '-created_at', '-id'], name='audit_by_registry'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['credential_public_id', '-created_at'], name='audit_by_credential'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['credential_username', '-created_at'], name='audit_by_username_prefix', opclasses=['varchar_pattern_ops', 'timestamptz_ops']),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['credential_name', '-created_at'], name='audit_by_name'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['ip_address', '-created_at'], name='audit_by_ip'),
        ),
        migrations.AddConstraint(
            model_name='temporarycredential',
            constraint=models.UniqueConstraint(fields=('username',), name='temporary_username_unique'),
        ),
        migrations.AddConstraint(
            model_name='refreshtoken',
            constraint=models.UniqueConstraint(fields=('digest',), name='refresh_token_digest_unique'),
        ),
        migrations.AddConstraint(
            model_name='refreshtoken',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('long_term__isnull', False), ('temporary__isnull', True)), models.Q(('long_term__isnull', True), ('temporary__isnull', False)), _connector='OR'), name='refresh_token_of_one_credential'),
        ),
        migrations.RunPython(protect_audit_trail, unprotect_audit_trail),
        migrations.RunPython(create_auditors, remove_auditors),
    ]
