"""The raw records' ID on SQLite is the table's rowid without AUTOINCREMENT (`RowIdField`), which
wrote the table's `sqlite_sequence` row for every ingested record (0.8-0.9 µs of a record's 7-8 µs
insert). SQLite rebuilds the table to change it (its rows copied once, its indexes built again);
on PostgreSQL nothing changes (the same identity column).
"""

from django.db import migrations

import raksa.accesslog.models


class Migration(migrations.Migration):
    dependencies = [
        ("accesslog", "0005_day_clients"),
    ]

    operations = [
        migrations.AlterField(
            model_name="accessrecord",
            name="id",
            field=raksa.accesslog.models.RowIdField(primary_key=True, serialize=False),
        ),
    ]
