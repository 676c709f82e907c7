"""On PostgreSQL, the raw table becomes partitioned by day: a day is purged by dropping its partition."""

from django.db import migrations

TABLE = "accesslog_accessrecord"
INDEXES = {
    "accesslog_record_day_time": "(day, time)",
    "accesslog_record_ip_index": "(ip_index)",
    "accesslog_record_subject": "(subject_id)",
}


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    execute = schema_editor.execute
    execute(f"ALTER TABLE {TABLE} RENAME TO {TABLE}_plain")
    for name in INDEXES:
        execute(f"DROP INDEX {name}")
    execute(
        f"CREATE TABLE {TABLE} (LIKE {TABLE}_plain INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS) "
        "PARTITION BY RANGE (day)"
    )
    execute(f"DROP TABLE {TABLE}_plain")
    # A partitioned table's primary key must hold the partition key.
    execute(f"ALTER TABLE {TABLE} ADD PRIMARY KEY (day, id)")
    for name, columns in INDEXES.items():
        execute(f"CREATE INDEX {name} ON {TABLE} {columns}")


class Migration(migrations.Migration):
    dependencies = [("accesslog", "0001_initial")]

    operations = [migrations.RunPython(partition, migrations.RunPython.noop, elidable=False)]
