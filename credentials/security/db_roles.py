"""A least-privilege database: the console serves as a runtime role that may read and write its
tables but only INSERT and SELECT audit events (and only SELECT and DELETE the audit stream's
outbox, only SELECT its switch), and owns nothing.

The owner role (DATABASE_OWNER_URL) runs the migrations and prepare_database, which calls
grant_runtime(): the runtime role (DATABASE_URL's user) gets SELECT, INSERT, UPDATE and DELETE
on every table but the audit trail, USAGE on the sequences, no CREATE in the schema and no
TEMPORARY on the database (PostgreSQL grants TEMPORARY to PUBLIC, every role, on a new
database: it is taken back from PUBLIC too; a temporary table named like one of ours would come
first in a lookup by unqualified name). As it owns no table, it cannot TRUNCATE, ALTER, DROP,
disable a trigger or replace the trigger's function. Default privileges give tables a later
migration creates (as the owner) the same grants automatically; the audit table is the one
exception, revoked by name.
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

from credentials.security.audit_chain import TABLE as AUDIT_TABLE

# Tables whose rows are never changed or removed once written.
APPEND_ONLY = (AUDIT_TABLE,)
# The audit stream (credentials/models/audit_stream.py): the outbox is written by the trail's
# trigger as its owner, so the runtime role only reads it and deletes what the receiver
# accepted (the sender serves as the runtime role too); the switch is the migrating role's.
READ_AND_DELETE = ("credentials_auditoutbox",)
READ_ONLY = ("credentials_auditstream",)


def _default_privileges(name: str) -> list[str]:
    # Tables and sequences a later migration creates, as this (owner) role: granted at once.
    return [
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {name}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {name}",
    ]


def _grants(owner: BaseDatabaseWrapper, role: str) -> list[str]:
    quote = owner.ops.quote_name
    name = quote(role)
    database = quote(_current_database(owner))
    return [
        f"REVOKE TEMPORARY ON DATABASE {database} FROM PUBLIC",
        f"REVOKE TEMPORARY ON DATABASE {database} FROM {name}",
        f"GRANT USAGE ON SCHEMA public TO {name}",
        f"REVOKE CREATE ON SCHEMA public FROM {name}",
        *_default_privileges(name),
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {name}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {name}",
        *(
            f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {quote(table)} FROM {name}"
            for table in APPEND_ONLY
        ),
        *(
            f"REVOKE INSERT, UPDATE, TRUNCATE, REFERENCES, TRIGGER ON {quote(table)} FROM {name}"
            for table in READ_AND_DELETE
        ),
        *(
            f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {quote(table)} "
            f"FROM {name}"
            for table in READ_ONLY
        ),
    ]


def default_privileges_first(owner: BaseDatabaseWrapper, role: str) -> None:
    """Before migrating: tables the migrations create are granted as they are created."""
    _execute(owner, _default_privileges(owner.ops.quote_name(role)))


def grant_runtime(owner: BaseDatabaseWrapper, role: str) -> None:
    """Give `role` exactly what serving needs, on the database `owner` is connected to."""
    _execute(owner, _grants(owner, role))


def temporary_privilege_left(owner: BaseDatabaseWrapper, role: str) -> str:
    """What is wrong if `role` may still create temporary tables here (else ""): a grant to a
    role it belongs to, or one the owner role did not make and so cannot take back."""
    database = _current_database(owner)
    with owner.cursor() as cursor:
        cursor.execute("SELECT has_database_privilege(%s, current_database(), 'TEMPORARY')", [role])
        if not cursor.fetchone()[0]:
            return ""
    quote = owner.ops.quote_name
    return (
        f'The runtime role "{role}" can still create temporary tables in the database '
        f'"{database}": through a role it belongs to, a grant the owner role cannot revoke, or '
        "as a superuser. As a superuser, run "
        f"REVOKE TEMPORARY ON DATABASE {quote(database)} FROM PUBLIC, {quote(role)} (and from "
        f"each role {quote(role)} belongs to), then prepare_database again."
    )


def _current_database(owner: BaseDatabaseWrapper) -> str:
    with owner.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        return cursor.fetchone()[0]


def _execute(owner: BaseDatabaseWrapper, statements: list[str]) -> None:
    with owner.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
