"""The audit trail's time from the database, and no event outside the chain (issue 23, item 4).

In this order:
- an event below chain position 1 stops the migration, named (only a caller who shadowed the trail
  with a temporary table, or a superuser, could have written one: docs/AUDIT.md says what to do);
- `created_at` defaults to the database's clock, and a CHECK keeps `chain_seq` at 1 or more;
- on PostgreSQL the chain's function is replaced by one with a fixed search_path that names the
  trail by its schema and dates each event itself (credentials/security/audit_chain.py), the
  append-only function gets the same search_path, and, when the trail already holds events
  (dated by their writers, not always in chain order), one `audit.database_clock` event marks
  where the database's dating begins: verify_audit_trail checks that time never runs backwards
  from there.
Undoing it restores the former function; the marker stays (the trail is append-only).
"""

import django.db.models.functions.datetime
from django.core.management.base import CommandError
from django.db import migrations, models

from credentials.security import audit_chain

APPEND_ONLY_FUNCTION = f"{audit_chain.SCHEMA}.credentials_auditevent_append_only()"

# The chain's function as the squashed 0001 (first 0011) installed it, for undoing this one.
FORMER_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {audit_chain.SCHEMA}.credentials_auditevent_chain() RETURNS trigger AS $$
DECLARE
    last_seq bigint;
    last_hash text;
BEGIN
    PERFORM pg_advisory_xact_lock({audit_chain.CHAIN_LOCK});
    SELECT e.chain_seq, e.hash INTO last_seq, last_hash FROM {audit_chain.TABLE} e
        WHERE e.chain_seq IS NOT NULL ORDER BY e.chain_seq DESC LIMIT 1;
    NEW.chain_seq := coalesce(last_seq, 0) + 1;
    NEW.prev_hash := coalesce(last_hash, '');
    NEW.hash := encode(sha256(convert_to(NEW.prev_hash || {audit_chain.canonical("NEW")}, 'UTF8')), 'hex');
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

MARK = f"""
INSERT INTO {audit_chain.QUALIFIED} (action, channel, actor_username, user_agent,
    registry_address, credential_name, credential_username, detail, prev_hash, hash)
VALUES (%s, 'system', '', '', '', '', '', '{{}}', '', '')
"""


def refuse_events_outside_the_chain(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite has no chain: chain_seq is empty there
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, chain_seq FROM {audit_chain.QUALIFIED} WHERE chain_seq < 1 ORDER BY id"
        )
        outside = cursor.fetchall()
    if outside:
        named = ", ".join(f"event {event_id} (chain position {seq})" for event_id, seq in outside)
        raise CommandError(
            f"The audit trail holds {len(outside)} event(s) below chain position 1, which the "
            f"chain's trigger never writes: {named}. Someone planted them (a temporary table "
            "named like the trail lets any role that may create one do it). Keep a copy, "
            "remove them as a superuser, then migrate again: docs/AUDIT.md, "
            '"Events outside the chain".'
        )


def hand_the_dating_to_the_database(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(audit_chain.FUNCTION, params=None)
    schema_editor.execute(
        f"ALTER FUNCTION {APPEND_ONLY_FUNCTION} SET search_path = {audit_chain.SEARCH_PATH}",
        params=None,
    )
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {audit_chain.QUALIFIED})")
        if cursor.fetchone()[0]:
            cursor.execute(MARK, [audit_chain.DATABASE_CLOCK])


def give_the_dating_back(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FORMER_FUNCTION, params=None)
    schema_editor.execute(f"ALTER FUNCTION {APPEND_ONLY_FUNCTION} RESET search_path", params=None)



class Migration(migrations.Migration):

    dependencies = [
        ('credentials', '0006_organizations_and_permissions'),
    ]

    operations = [
        migrations.RunPython(refuse_events_outside_the_chain, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='auditevent',
            name='action',
            field=models.CharField(choices=[('long_term.created', 'Long-term credential created'), ('long_term.disabled', 'Long-term credential disabled'), ('long_term.enabled', 'Long-term credential enabled'), ('long_term.deleted', 'Long-term credential deleted'), ('long_term.password_reset', 'Long-term credential password reset'), ('temporary.issued', 'Temporary credential issued'), ('temporary.minted', 'Temporary credential minted (built-in SWR API)'), ('temporary.deleted', 'Temporary credential deleted (with its user)'), ('console.sign_in', 'Console sign-in'), ('console.sign_in_failed', 'Console sign-in failed'), ('console.sessions_ended', 'Console sessions ended'), ('console.password_changed', 'Console password changed'), ('registry.login_failed', 'Registry login failed'), ('access_key.created', 'Access key created'), ('access_key.disabled', 'Access key disabled'), ('access_key.enabled', 'Access key enabled'), ('access_key.deleted', 'Access key deleted'), ('api.request_refused', 'API request refused'), ('organization.created', 'Organization created'), ('organization.deleted', 'Organization deleted'), ('permission.granted', 'Permission granted'), ('permission.changed', 'Permission changed'), ('permission.revoked', 'Permission revoked'), ('audit.database_clock', 'Audit trail dated by the database from here on')], max_length=32, verbose_name='action'),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='created_at',
            field=models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), editable=False, verbose_name='created at'),
        ),
        migrations.AddConstraint(
            model_name='auditevent',
            constraint=models.CheckConstraint(condition=models.Q(('chain_seq__gte', 1)), name='audit_chain_seq_positive'),
        ),
        migrations.RunPython(hand_the_dating_to_the_database, give_the_dating_back),
    ]
