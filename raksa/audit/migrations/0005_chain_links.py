"""The chain moves into an insert-only table of links; entries are never written after their INSERT.

The sequencer used to UPDATE three chain columns of every entry (a new row version and its index
entries each time); it now INSERTs one small row per entry into `audit_auditlink`, in bulk. The
existing chain is copied over unchanged (same sequences and hashes), then the columns are dropped.

Triggers, after this migration:
- entries: INSERT only (no UPDATE, DELETE or TRUNCATE); on PostgreSQL a statement trigger also
  gives the inserting transaction its ID before the entry takes an id (the sequencer relies on it,
  see raksa.audit.chain.Sequencer).
- links and checkpoints: INSERT only.
On SQLite, a later migration that rebuilds one of these tables drops its triggers: it must create
them again (tests/test_append_only.py and check audit.E001 notice if it does not).
"""

import django.db.models.deletion
from django.db import migrations, models

ENTRY = "audit_auditentry"
LINK = "audit_auditlink"

POSTGRESQL_OLD = f"""
DROP TRIGGER audit_entry_insert_unchained ON {ENTRY};
DROP TRIGGER audit_entry_update_chain_only ON {ENTRY};
"""

POSTGRESQL = f"""
CREATE FUNCTION raksa_audit_take_xid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_current_xact_id();
    RETURN NULL;
END $$;
CREATE TRIGGER audit_entry_xid_first BEFORE INSERT ON {ENTRY} FOR EACH STATEMENT
    EXECUTE FUNCTION raksa_audit_take_xid();
CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON {ENTRY} FOR EACH ROW EXECUTE FUNCTION raksa_audit_refuse();
CREATE TRIGGER audit_link_no_change BEFORE UPDATE OR DELETE ON {LINK} FOR EACH ROW
    EXECUTE FUNCTION raksa_audit_refuse();
CREATE TRIGGER audit_link_no_truncate BEFORE TRUNCATE ON {LINK} FOR EACH STATEMENT
    EXECUTE FUNCTION raksa_audit_refuse();
"""


COPY_CHAIN = (
    f"INSERT INTO {LINK} (sequence, entry_id, prev_hash, hash) "  # noqa: S608 (constants only)
    f"SELECT sequence, id, prev_hash, hash FROM {ENTRY} WHERE sequence IS NOT NULL"
)


def _sqlite_refuse(name: str, event: str, table: str) -> str:
    message = f"the audit log is append-only: {event} on {table} refused"
    return f"CREATE TRIGGER {name} BEFORE {event} ON {table} BEGIN SELECT RAISE(ABORT, '{message}'); END"


SQLITE = [
    _sqlite_refuse("audit_entry_no_update", "UPDATE", ENTRY),
    _sqlite_refuse("audit_entry_no_delete", "DELETE", ENTRY),
    _sqlite_refuse("audit_link_no_update", "UPDATE", LINK),
    _sqlite_refuse("audit_link_no_delete", "DELETE", LINK),
]


def drop_old_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_OLD, params=None)
    else:
        # Rebuilding the table below would drop them anyway; the new set is created at the end.
        for name in ("audit_entry_insert_unchained", "audit_entry_update_chain_only", "audit_entry_no_delete"):
            schema_editor.execute(f"DROP TRIGGER {name}")


def copy_chain(apps, schema_editor):
    schema_editor.execute(COPY_CHAIN)


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE:
            schema_editor.execute(statement)
    else:
        raise NotImplementedError(f"no append-only triggers for {schema_editor.connection.vendor}")


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_viewing_hold")]

    operations = [
        migrations.RunPython(drop_old_triggers, elidable=False),
        migrations.CreateModel(
            name="AuditLink",
            fields=[
                ("sequence", models.BigIntegerField(primary_key=True, serialize=False, verbose_name="sequence number")),
                (
                    "entry",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="link",
                        to="audit.auditentry",
                        verbose_name="audit entry",
                    ),
                ),
                ("prev_hash", models.CharField(max_length=64, verbose_name="previous hash")),
                ("hash", models.CharField(max_length=64, verbose_name="hash")),
            ],
            options={"verbose_name": "audit chain link", "verbose_name_plural": "audit chain links"},
        ),
        migrations.AddConstraint(
            model_name="auditlink",
            constraint=models.CheckConstraint(
                condition=models.Q(("sequence__gte", 1)), name="audit_link_sequence_positive"
            ),
        ),
        migrations.CreateModel(
            name="SequencerState",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("settled_through", models.BigIntegerField(default=0, verbose_name="settled through entry id")),
            ],
            options={"verbose_name": "audit sequencer state", "verbose_name_plural": "audit sequencer states"},
        ),
        migrations.RunPython(copy_chain, elidable=False),
        migrations.RemoveConstraint(model_name="auditentry", name="audit_entry_chained_whole"),
        migrations.RemoveIndex(model_name="auditentry", name="audit_entry_unchained"),
        migrations.RemoveField(model_name="auditentry", name="hash"),
        migrations.RemoveField(model_name="auditentry", name="prev_hash"),
        migrations.RemoveField(model_name="auditentry", name="sequence"),
        migrations.RunPython(create_triggers, elidable=False),
    ]
