"""The raw table keeps only the indexes its readers use, since every ingested record pays for each.

The IP index is searched within days: (day, ip_index) instead of (ip_index), whose random values sent
each insert to a random page of one index over all days (on SQLite the dearest part of an insert).
The account index covers only signed-in records (`subject_id = X` implies NOT NULL on both databases),
not the anonymous majority. No row is rewritten: indexes are dropped and built (on PostgreSQL on
every day's partition, under a lock that holds the ingester until the build ends).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accesslog", "0002_partition_by_day"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="accessrecord",
            name="accesslog_record_ip_index",
        ),
        migrations.RemoveIndex(
            model_name="accessrecord",
            name="accesslog_record_subject",
        ),
        migrations.AddIndex(
            model_name="accessrecord",
            index=models.Index(fields=["day", "ip_index"], name="accesslog_record_day_ip"),
        ),
        migrations.AddIndex(
            model_name="accessrecord",
            index=models.Index(
                condition=models.Q(("subject_id__isnull", False)),
                fields=["subject_id"],
                name="accesslog_record_signed_in",
            ),
        ),
    ]
