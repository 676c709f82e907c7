"""Blind-index digests as their 32 raw bytes instead of 64 hex digits, and the look-up index on the
digest alone (the kind is in the HMAC's input): narrower rows and indexes, so a retention batch that
deletes thousands of them rewrites fewer pages (docs/retention.md).

Existing digests are converted where they are. PostgreSQL rewrites the table once (`ALTER … TYPE
bytea USING decode(…)`, under an exclusive lock: look-ups and writes of blind indexes wait for it);
SQLite copies the table (as any change of a column's type) and then decodes each digest. Migrate in
a quiet hour: docs/retention.md gives the time for a million rows.
"""

from django.db import migrations, models


def _fields(apps, old_type, new_type):
    model = apps.get_model("vault", "BlindIndex")
    old, new = old_type(), new_type()
    for field in (old, new):
        field.set_attributes_from_name("digest")
        field.model = model
    return model, old, new


def _text():
    return models.CharField(max_length=64)


def _raw():
    return models.BinaryField(max_length=32)


def to_raw(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE vault_blindindex ALTER COLUMN digest TYPE bytea USING decode(digest, 'hex')")
        # The type change dropped the column's statistics (autovacuum may be off or wait a long time).
        schema_editor.execute("ANALYZE vault_blindindex")
        return
    schema_editor.alter_field(*_fields(apps, _text, _raw))
    # SQLite 3.40 has no unhex(): Python decodes, inside the one UPDATE.
    schema_editor.connection.ensure_connection()
    schema_editor.connection.connection.create_function("raksa_unhex", 1, bytes.fromhex, deterministic=True)
    schema_editor.execute("UPDATE vault_blindindex SET digest = raksa_unhex(digest) WHERE typeof(digest) = 'text'")


def to_text(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE vault_blindindex ALTER COLUMN digest TYPE varchar(64) USING encode(digest, 'hex')"
        )
        return
    schema_editor.execute("UPDATE vault_blindindex SET digest = lower(hex(digest)) WHERE typeof(digest) = 'blob'")
    schema_editor.alter_field(*_fields(apps, _raw, _text))


class Migration(migrations.Migration):
    dependencies = [("vault", "0004_data_key_indexes_for_shredding")]

    operations = [
        # Dropped first: the type change would otherwise rebuild it, only for it to go.
        migrations.RemoveIndex(model_name="blindindex", name="vault_blindindex_lookup"),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunPython(to_raw, to_text, hints={"model_name": "blindindex"}, elidable=False)
            ],
            state_operations=[
                migrations.AlterField(model_name="blindindex", name="digest", field=models.BinaryField(max_length=32))
            ],
        ),
        migrations.AddIndex(
            model_name="blindindex", index=models.Index(fields=["digest"], name="vault_blindindex_digest")
        ),
    ]
