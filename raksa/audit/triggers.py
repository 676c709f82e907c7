"""Lifting the append-only triggers, for the owner's maintenance only (flush in development, tests).

On PostgreSQL this needs the table's owner (the application's role cannot); on SQLite it drops and
re-creates the triggers. Both happen inside the caller's transaction, so a failure restores them.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db.backends.base.base import BaseDatabaseWrapper

AUDIT_TABLES = ("audit_auditentry", "audit_auditlink", "audit_auditcheckpoint")


@contextmanager
def triggers_lifted(connection: BaseDatabaseWrapper, tables: tuple[str, ...] = AUDIT_TABLES) -> Iterator[None]:
    if not connection.in_atomic_block:
        raise RuntimeError("lift the audit triggers only inside a transaction, so that they come back")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in tables:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            yield
            for table in tables:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
            return
        cursor.execute("SELECT name, sql, tbl_name FROM sqlite_master WHERE type = 'trigger'")
        triggers = [(name, sql) for name, sql, table in cursor.fetchall() if table in tables]
        for name, _sql in triggers:
            cursor.execute(f'DROP TRIGGER "{name}"')
        yield
        for _name, sql in triggers:
            cursor.execute(sql)
