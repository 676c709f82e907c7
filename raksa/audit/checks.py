"""`check --database default`: the audit log's append-only triggers are in place and enabled."""

from collections.abc import Iterable
from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Error, Tags, register
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.recorder import MigrationRecorder

from raksa.audit.triggers import AUDIT_TABLES

EXPECTED = {
    "postgresql": {
        "audit_entry_xid_first",
        "audit_entry_no_update",
        "audit_entry_no_delete",
        "audit_entry_no_truncate",
        "audit_link_no_change",
        "audit_link_no_truncate",
        "audit_checkpoint_no_change",
        "audit_checkpoint_no_truncate",
    },
    "sqlite": {
        "audit_entry_no_update",
        "audit_entry_no_delete",
        "audit_link_no_update",
        "audit_link_no_delete",
        "audit_checkpoint_no_update",
        "audit_checkpoint_no_delete",
    },
}


@register(Tags.database)
def check_append_only_triggers(app_configs: Iterable[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    databases = kwargs.get("databases")
    if not databases or DEFAULT_DB_ALIAS not in databases:
        return []
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor not in EXPECTED or AUDIT_TABLES[0] not in connection.introspection.table_names():
        return []
    if ("audit", "0005_chain_links") not in MigrationRecorder(connection).applied_migrations():
        return []  # `migrate` runs this check before it installs them
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D' "
                "AND tgrelid::regclass::text = ANY(%s)",
                [list(AUDIT_TABLES)],
            )
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        present = {name for (name,) in cursor.fetchall()}
    missing = sorted(EXPECTED[connection.vendor] - present)
    if not missing:
        return []
    return [
        Error(
            f"The audit log's append-only triggers are missing or disabled: {', '.join(missing)}.",
            hint="On SQLite a migration that rebuilds an audit table drops them: it must create them again "
            "(raksa/audit/migrations/0005_chain_links.py).",
            id="audit.E001",
        )
    ]
