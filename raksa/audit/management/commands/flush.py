"""Django's `flush`, able to empty the append-only audit tables in development and tests.

Django's TransactionTestCase empties every table with `flush` after each test; the audit log's
triggers refuse that. This lifts them for the flush, in the same transaction, and puts them back.
In production it refuses: there the audit log is emptied by nobody.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands import flush
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

AUDIT_TABLES = ("audit_auditentry", "audit_auditcheckpoint")


class Command(flush.Command):
    help = flush.Command.help + " Refused in production, where the audit log is append-only."

    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        tables = [table for table in AUDIT_TABLES if table in connection.introspection.table_names()]
        if not tables:
            return super().handle(**options)
        if settings.PRODUCTION:
            raise CommandError("flush is refused in production: the audit log is append-only.")
        with transaction.atomic(using=connection.alias), _triggers_lifted(connection, tables):
            super().handle(**options)
        return None


@contextmanager
def _triggers_lifted(connection: BaseDatabaseWrapper, tables: list[str]) -> Iterator[None]:
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
