"""The audit trail streamed out (issue 26): the stream's switch and its outbox.

Beyond the two tables, a trigger on the trail adds an outbox row for every event inserted while
the stream is on, in the event's own transaction, whoever inserts it and however
(credentials/models/audit_stream.py):
- on PostgreSQL an AFTER INSERT trigger, so the row carries the chain position the chain's
  BEFORE trigger gave the event. Its function runs as its owner (SECURITY DEFINER, with a fixed
  search_path and the tables named by schema): the runtime role inserts events, never outbox
  rows itself;
- on SQLite, which has no chain, the event's id is its position (the same trigger is put back
  after every migrate: SQLite drops a table's triggers when a migration rebuilds it).
The stream starts off; switch_audit_stream turns it on after migrate when AUDIT_SYSLOG_URL is set.
"""

import django.db.models.deletion
from django.db import migrations, models

from credentials.models.audit_stream import SQLITE_TRIGGER
from credentials.security import audit_chain

SCHEMA = audit_chain.SCHEMA

POSTGRESQL_TRIGGER = f"""
CREATE FUNCTION {SCHEMA}.credentials_auditevent_outbox() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {audit_chain.SEARCH_PATH} AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM {SCHEMA}.credentials_auditstream s WHERE s.id = 1 AND s.enabled) THEN
        INSERT INTO {SCHEMA}.credentials_auditoutbox (seq, event_id)
            VALUES (NEW.chain_seq, NEW.id);
    END IF;
    RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION {SCHEMA}.credentials_auditevent_outbox() FROM PUBLIC;

CREATE TRIGGER credentials_auditevent_outbox
    AFTER INSERT ON {audit_chain.QUALIFIED}
    FOR EACH ROW EXECUTE FUNCTION {SCHEMA}.credentials_auditevent_outbox();
"""

POSTGRESQL_DROP = f"""
DROP TRIGGER IF EXISTS credentials_auditevent_outbox ON {audit_chain.QUALIFIED};
DROP FUNCTION IF EXISTS {SCHEMA}.credentials_auditevent_outbox();
"""


def add_the_outbox_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_TRIGGER, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_TRIGGER, params=None)


def drop_the_outbox_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_DROP, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS credentials_auditevent_outbox", params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('credentials', '0008_permission_admin_indexes'),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditStream',
            fields=[
                ('id', models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ('enabled', models.BooleanField(default=False, verbose_name='enabled')),
            ],
            options={
                'verbose_name': 'audit stream',
                'verbose_name_plural': 'audit stream',
                'default_permissions': (),
            },
        ),
        migrations.CreateModel(
            name='AuditOutbox',
            fields=[
                ('seq', models.BigIntegerField(primary_key=True, serialize=False, verbose_name='position')),
                ('event', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='credentials.auditevent', verbose_name='audit event')),
            ],
            options={
                'verbose_name': 'audit event to stream',
                'verbose_name_plural': 'audit events to stream',
                'ordering': ['seq'],
                'default_permissions': (),
            },
        ),
        migrations.RunPython(add_the_outbox_trigger, drop_the_outbox_trigger),
    ]
