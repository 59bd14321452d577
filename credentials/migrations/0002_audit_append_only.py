"""Make the audit table append-only in the database itself (PostgreSQL).

UPDATE and DELETE on credentials_auditevent raise an error whoever runs them, through the ORM
or raw SQL. (TRUNCATE, an owner-level operation, stays possible; see docs/AUDIT.md.)
"""

from __future__ import annotations

from django.db import migrations

CREATE = """
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

DROP = """
DROP TRIGGER IF EXISTS credentials_auditevent_append_only ON credentials_auditevent;
DROP FUNCTION IF EXISTS credentials_auditevent_append_only();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("credentials", "0001_initial")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
