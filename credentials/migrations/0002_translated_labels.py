# Labels only (verbose names, translated in the admin): PostgreSQL runs no statement for it.

import django.db.models.deletion
import django.utils.timezone
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('credentials', '0001_squashed_0015_user_language'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='accesskey',
            options={'ordering': ['-created_at', '-id'], 'verbose_name': 'access key', 'verbose_name_plural': 'access keys'},
        ),
        migrations.AlterModelOptions(
            name='auditevent',
            options={'ordering': ['-created_at', '-id'], 'verbose_name': 'audit event', 'verbose_name_plural': 'audit events'},
        ),
        migrations.AlterModelOptions(
            name='credentialreminder',
            options={'verbose_name': 'credential reminder', 'verbose_name_plural': 'credential reminders'},
        ),
        migrations.AlterModelOptions(
            name='longtermcredential',
            options={'ordering': ['-created_at', '-id'], 'verbose_name': 'long-term credential', 'verbose_name_plural': 'long-term credentials'},
        ),
        migrations.AlterModelOptions(
            name='refreshtoken',
            options={'verbose_name': 'registry refresh token', 'verbose_name_plural': 'registry refresh tokens'},
        ),
        migrations.AlterModelOptions(
            name='region',
            options={'ordering': ['name'], 'verbose_name': 'region', 'verbose_name_plural': 'regions'},
        ),
        migrations.AlterModelOptions(
            name='registry',
            options={'ordering': ['name'], 'verbose_name': 'registry', 'verbose_name_plural': 'registries'},
        ),
        migrations.AlterField(
            model_name='accesskey',
            name='created_at',
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='created at'),
        ),
        migrations.AlterField(
            model_name='accesskey',
            name='public_id',
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True, verbose_name='public id'),
        ),
        migrations.AlterField(
            model_name='accesskey',
            name='secret_ciphertext',
            field=models.TextField(editable=False, verbose_name='secret ciphertext'),
        ),
        migrations.AlterField(
            model_name='accesskey',
            name='user',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='access_keys', to=settings.AUTH_USER_MODEL, verbose_name='user'),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='action',
            field=models.CharField(choices=[('long_term.created', 'Long-term credential created'), ('long_term.disabled', 'Long-term credential disabled'), ('long_term.enabled', 'Long-term credential enabled'), ('long_term.deleted', 'Long-term credential deleted'), ('long_term.password_reset', 'Long-term credential password reset'), ('temporary.issued', 'Temporary credential issued'), ('temporary.minted', 'Temporary credential minted (built-in SWR API)'), ('temporary.deleted', 'Temporary credential deleted (with its user)'), ('console.sign_in', 'Console sign-in'), ('console.sign_in_failed', 'Console sign-in failed'), ('console.sessions_ended', 'Console sessions ended'), ('registry.login_failed', 'Registry login failed'), ('access_key.created', 'Access key created'), ('access_key.disabled', 'Access key disabled'), ('access_key.enabled', 'Access key enabled'), ('access_key.deleted', 'Access key deleted'), ('api.request_refused', 'API request refused')], max_length=32, verbose_name='action'),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='actor',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='actor'),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='chain_seq',
            field=models.BigIntegerField(blank=True, editable=False, null=True, unique=True, verbose_name='chain seq'),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='channel',
            field=models.CharField(choices=[('console', 'Console'), ('api', 'API'), ('system', 'System (scheduled command)')], default='console', max_length=16, verbose_name='channel'),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='created_at',
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='created at'),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='credential_name',
            field=models.CharField(blank=True, max_length=64, verbose_name='credential name'),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='credential_public_id',
            field=models.UUIDField(blank=True, null=True, verbose_name='credential public id'),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='credential_username',
            field=models.CharField(blank=True, max_length=150, verbose_name='credential username'),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='detail',
            field=models.JSONField(blank=True, default=dict, verbose_name='detail'),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='hash',
            field=models.CharField(blank=True, default='', editable=False, max_length=64, verbose_name='hash'),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='prev_hash',
            field=models.CharField(blank=True, default='', editable=False, max_length=64, verbose_name='prev hash'),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='registry',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='credentials.registry', verbose_name='registry'),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='user_agent',
            field=models.CharField(blank=True, max_length=512, verbose_name='user agent'),
        ),
        migrations.AlterField(
            model_name='credentialreminder',
            name='credential',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='reminders', to='credentials.longtermcredential', verbose_name='credential'),
        ),
        migrations.AlterField(
            model_name='credentialreminder',
            name='expires_at',
            field=models.DateTimeField(verbose_name='expires at'),
        ),
        migrations.AlterField(
            model_name='credentialreminder',
            name='kind',
            field=models.CharField(max_length=16, verbose_name='kind'),
        ),
        migrations.AlterField(
            model_name='credentialreminder',
            name='sent_at',
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name='sent at'),
        ),
        migrations.AlterField(
            model_name='longtermcredential',
            name='created_at',
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='created at'),
        ),
        migrations.AlterField(
            model_name='longtermcredential',
            name='expires_at',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='expires at'),
        ),
        migrations.AlterField(
            model_name='longtermcredential',
            name='last_used_at',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='last used at'),
        ),
        migrations.AlterField(
            model_name='longtermcredential',
            name='name',
            field=models.CharField(max_length=64, verbose_name='name'),
        ),
        migrations.AlterField(
            model_name='longtermcredential',
            name='owner',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='long_term_credentials', to=settings.AUTH_USER_MODEL, verbose_name='owner'),
        ),
        migrations.AlterField(
            model_name='longtermcredential',
            name='password_digest',
            field=models.CharField(editable=False, max_length=64, verbose_name='password digest'),
        ),
        migrations.AlterField(
            model_name='longtermcredential',
            name='password_reset_at',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='password reset at'),
        ),
        migrations.AlterField(
            model_name='longtermcredential',
            name='previous_password_digest',
            field=models.CharField(blank=True, db_default='', default='', editable=False, max_length=64, verbose_name='previous password digest'),
        ),
        migrations.AlterField(
            model_name='longtermcredential',
            name='previous_password_until',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='previous password until'),
        ),
        migrations.AlterField(
            model_name='longtermcredential',
            name='public_id',
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True, verbose_name='public id'),
        ),
        migrations.AlterField(
            model_name='longtermcredential',
            name='registry',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='long_term_credentials', to='credentials.registry', verbose_name='registry'),
        ),
        migrations.AlterField(
            model_name='longtermcredential',
            name='status_changed_at',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='status changed at'),
        ),
        migrations.AlterField(
            model_name='longtermcredential',
            name='status_changed_by',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='status changed by'),
        ),
        migrations.AlterField(
            model_name='longtermcredential',
            name='username',
            field=models.CharField(max_length=96, verbose_name='username'),
        ),
        migrations.AlterField(
            model_name='refreshtoken',
            name='created_at',
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='created at'),
        ),
        migrations.AlterField(
            model_name='refreshtoken',
            name='digest',
            field=models.CharField(editable=False, max_length=64, verbose_name='digest'),
        ),
        migrations.AlterField(
            model_name='refreshtoken',
            name='expires_at',
            field=models.DateTimeField(db_index=True, verbose_name='expires at'),
        ),
        migrations.AlterField(
            model_name='refreshtoken',
            name='long_term',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='refresh_tokens', to='credentials.longtermcredential', verbose_name='long term'),
        ),
        migrations.AlterField(
            model_name='refreshtoken',
            name='service',
            field=models.CharField(max_length=255, verbose_name='service'),
        ),
        migrations.AlterField(
            model_name='refreshtoken',
            name='temporary',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='refresh_tokens', to='credentials.temporarycredential', verbose_name='temporary'),
        ),
        migrations.AlterField(
            model_name='region',
            name='display_name',
            field=models.CharField(blank=True, max_length=100, verbose_name='display name'),
        ),
        migrations.AlterField(
            model_name='region',
            name='name',
            field=models.SlugField(help_text='For example cn-north-4.', max_length=64, unique=True, verbose_name='name'),
        ),
        migrations.AlterField(
            model_name='registry',
            name='address',
            field=models.CharField(help_text='Host (and port) clients log in to, e.g. swr.cn-north-4.myhuaweicloud.com. It is also the `service` the registry names in token requests.', max_length=255, unique=True, verbose_name='address'),
        ),
        migrations.AlterField(
            model_name='registry',
            name='created_at',
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='created at'),
        ),
        migrations.AlterField(
            model_name='registry',
            name='name',
            field=models.CharField(max_length=64, verbose_name='name'),
        ),
        migrations.AlterField(
            model_name='registry',
            name='project_name',
            field=models.CharField(blank=True, help_text='Upstream SWR project; defaults to the region name.', max_length=64, verbose_name='project name'),
        ),
        migrations.AlterField(
            model_name='registry',
            name='public_id',
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True, verbose_name='public id'),
        ),
        migrations.AlterField(
            model_name='registry',
            name='region',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='registries', to='credentials.region', verbose_name='region'),
        ),
        migrations.AlterField(
            model_name='temporarycredential',
            name='created_at',
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='created at'),
        ),
        migrations.AlterField(
            model_name='temporarycredential',
            name='expires_at',
            field=models.DateTimeField(db_index=True, verbose_name='expires at'),
        ),
        migrations.AlterField(
            model_name='temporarycredential',
            name='password_digest',
            field=models.CharField(editable=False, max_length=64, verbose_name='password digest'),
        ),
        migrations.AlterField(
            model_name='temporarycredential',
            name='project_name',
            field=models.CharField(max_length=64, verbose_name='project name'),
        ),
        migrations.AlterField(
            model_name='temporarycredential',
            name='public_id',
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True, verbose_name='public id'),
        ),
        migrations.AlterField(
            model_name='temporarycredential',
            name='user',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='temporary_credentials', to=settings.AUTH_USER_MODEL, verbose_name='user'),
        ),
        migrations.AlterField(
            model_name='temporarycredential',
            name='username',
            field=models.CharField(max_length=96, verbose_name='username'),
        ),
        migrations.AlterField(
            model_name='user',
            name='credentials_deadline',
            field=models.DateTimeField(editable=False, help_text="The next moment the user's credentials change with time alone; empty when it is to be worked out again.", null=True, verbose_name='credentials deadline'),
        ),
        migrations.AlterField(
            model_name='user',
            name='credentials_expiring_soon',
            field=models.BooleanField(db_default=False, default=False, editable=False, help_text="Whether an enabled credential of the user expires within the banner's week; true until credentials_deadline.", verbose_name='credentials expiring soon'),
        ),
        migrations.AlterField(
            model_name='user',
            name='credentials_version',
            field=models.PositiveBigIntegerField(default=0, editable=False, help_text="Raised with every change to the user's long-term credentials (their Last Used included): the key under which their tab's rendered page is cached.", verbose_name='credentials version'),
        ),
        migrations.AlterField(
            model_name='user',
            name='language',
            field=models.CharField(blank=True, db_default='', default='', editable=False, help_text='The language the user last chose or signed in to the console in, that of their e-mails; empty: LANGUAGE_CODE.', max_length=16, verbose_name='language'),
        ),
        migrations.AlterField(
            model_name='user',
            name='session_generation',
            field=models.PositiveIntegerField(default=0, editable=False, help_text="Signed into every session: raising it ends all of the user's sessions.", verbose_name='session generation'),
        ),
    ]
