"""The database itself refuses to rewrite the audit log.

Entries may only be inserted unchained; the one UPDATE allowed fills the chain columns of an
unchained entry and changes nothing else; DELETE and TRUNCATE are refused. Checkpoints are never
changed at all. Owners can still drop triggers: the chain, the signed checkpoints and the copy of
them kept outside the database are what catch that (`raksa audit verify`).

On SQLite, a later migration that rebuilds one of these tables drops its triggers: such a
migration must create them again (tests/test_append_only.py notices if it does not).
"""

from django.db import migrations

ENTRY = "audit_auditentry"
CHECKPOINT = "audit_auditcheckpoint"
CONTENT = (
    "id",
    "time",
    "actor_id",
    "role",
    "agency_id",
    "subject_id",
    "action",
    "object_type",
    "object_id",
    "fields",
    "purpose",
    "legal_basis",
    "request_id",
    "outcome",
)
CHAIN = ("sequence", "prev_hash", "hash")

NEW_CHAINED = " OR ".join(f"NEW.{column} IS NOT NULL" for column in CHAIN)
OLD_CHAINED = " OR ".join(f"OLD.{column} IS NOT NULL" for column in CHAIN)
NEW_UNCHAINED = " OR ".join(f"NEW.{column} IS NULL" for column in CHAIN)

POSTGRESQL = f"""
CREATE FUNCTION raksa_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_entry_insert_unchained BEFORE INSERT ON {ENTRY} FOR EACH ROW
    WHEN ({NEW_CHAINED}) EXECUTE FUNCTION raksa_audit_refuse();
CREATE TRIGGER audit_entry_update_chain_only BEFORE UPDATE ON {ENTRY} FOR EACH ROW
    WHEN ({OLD_CHAINED} OR {NEW_UNCHAINED}
          OR ({", ".join(f"NEW.{c}" for c in CONTENT)}) IS DISTINCT FROM ({", ".join(f"OLD.{c}" for c in CONTENT)}))
    EXECUTE FUNCTION raksa_audit_refuse();
CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON {ENTRY} FOR EACH ROW EXECUTE FUNCTION raksa_audit_refuse();
CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON {ENTRY} FOR EACH STATEMENT EXECUTE FUNCTION raksa_audit_refuse();
CREATE TRIGGER audit_checkpoint_no_change BEFORE UPDATE OR DELETE ON {CHECKPOINT} FOR EACH ROW
    EXECUTE FUNCTION raksa_audit_refuse();
CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON {CHECKPOINT} FOR EACH STATEMENT
    EXECUTE FUNCTION raksa_audit_refuse();
"""

POSTGRESQL_REVERSE = f"""
DROP TRIGGER audit_entry_insert_unchained ON {ENTRY};
DROP TRIGGER audit_entry_update_chain_only ON {ENTRY};
DROP TRIGGER audit_entry_no_delete ON {ENTRY};
DROP TRIGGER audit_entry_no_truncate ON {ENTRY};
DROP TRIGGER audit_checkpoint_no_change ON {CHECKPOINT};
DROP TRIGGER audit_checkpoint_no_truncate ON {CHECKPOINT};
DROP FUNCTION raksa_audit_refuse();
"""


def _sqlite_refuse(name: str, event: str, table: str, when: str = "") -> str:
    condition = f" WHEN {when}" if when else ""
    message = f"the audit log is append-only: {event.split()[0]} on {table} refused"
    return f"CREATE TRIGGER {name} BEFORE {event} ON {table}{condition} BEGIN SELECT RAISE(ABORT, '{message}'); END"


SQLITE = [
    _sqlite_refuse("audit_entry_insert_unchained", "INSERT", ENTRY, NEW_CHAINED),
    _sqlite_refuse(
        "audit_entry_update_chain_only",
        "UPDATE",
        ENTRY,
        f"{OLD_CHAINED} OR {NEW_UNCHAINED} OR NOT ({' AND '.join(f'NEW.{c} IS OLD.{c}' for c in CONTENT)})",
    ),
    _sqlite_refuse("audit_entry_no_delete", "DELETE", ENTRY),
    _sqlite_refuse("audit_checkpoint_no_update", "UPDATE", CHECKPOINT),
    _sqlite_refuse("audit_checkpoint_no_delete", "DELETE", CHECKPOINT),
]
SQLITE_TRIGGERS = [
    "audit_entry_insert_unchained",
    "audit_entry_update_chain_only",
    "audit_entry_no_delete",
    "audit_checkpoint_no_update",
    "audit_checkpoint_no_delete",
]


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE:
            schema_editor.execute(statement)
    else:
        raise NotImplementedError(f"no append-only triggers for {schema_editor.connection.vendor}")


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_REVERSE, params=None)
    else:
        for name in SQLITE_TRIGGERS:
            schema_editor.execute(f"DROP TRIGGER {name}")


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(create_triggers, drop_triggers, elidable=False)]
