"""Django's `flush`, able to empty the append-only audit tables in development and tests.

Django's TransactionTestCase empties every table with `flush` after each test; the audit log's
triggers refuse that. This lifts them for the flush, in the same transaction, and puts them back.
In production it refuses: there the audit log is emptied by nobody.
"""

from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands import flush
from django.db import connections, transaction

from raksa.audit.triggers import AUDIT_TABLES, triggers_lifted


class Command(flush.Command):
    help = flush.Command.help + " Refused in production, where the audit log is append-only."

    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        tables = tuple(table for table in AUDIT_TABLES if table in connection.introspection.table_names())
        if not tables:
            return super().handle(**options)
        if settings.PRODUCTION:
            raise CommandError("flush is refused in production: the audit log is append-only.")
        with transaction.atomic(using=connection.alias), triggers_lifted(connection, tables):
            super().handle(**options)
        return None
