"""What repeats for every record of one client and day moves to a table of the day's clients.

A record kept its client's sealed IP and browser string, IP index, visitor key and browser parse:
8 of its 19 columns, and the (day, ip_index) index with random keys, paid for every request. They are
now stored once per client and day (`DayClient`), and the record points to its client.

Existing records are carried over: a day's records are grouped by their sealed values (one Loader
sealed a client once, so its records share bytes; clients sealed again by another Loader are merged
by their client key, computed from the values unsealed under the day's key); each client is made once,
in the order its first record arrived; each record gets its client's ID. On PostgreSQL each day's
partition is copied into a new one and swapped in (no row updated in place, so the table does not
double), on SQLite the records are updated by client. The visitor key is dropped: the day's visitors
are counted in `DayVisitor`, and the next page is now found by client. A day whose key was destroyed
(its purge stopped half-way) keeps its sealed values under a random client key: nothing can read them.
Measured on a copy of the bench's full data set (PostgreSQL, 10,000,000 records over 90 days, 499,950
clients; load average 8-11): 319 s in all, 16 s of it this process's CPU; the records' partitions went
from 5.4 GB to 2.5 GB, the clients take 262 MB. The migration holds the records' table for its length.
Migrating back to 0004 gives every record its client's values again (`restore_moved`).
"""

import datetime
import hashlib

from django.db import migrations, models

import raksa.accesslog.models
from raksa.vault.crypto import TamperedError

RECORDS = "accesslog_accessrecord"
CLIENTS = "accesslog_dayclient"
MOVED = (
    "ip_sealed",
    "user_agent_sealed",
    "ip_index",
    "visitor",
    "browser_family",
    "browser_version",
    "os_family",
    "device_type",
)
KEPT = (
    "id",
    "day",
    "time",
    "method",
    "path",
    "status",
    "bytes_sent",
    "duration_us",
    "host",
    "referrer",
    "subject_id",
    "request_id",
)


def partition_clients(apps, schema_editor):
    """On PostgreSQL the clients are partitioned by day as the records are (0002): a day leaves whole."""
    if schema_editor.connection.vendor != "postgresql":
        return
    execute = schema_editor.execute
    # The (day, ip_index) index is made at the end of this migration (Django defers it): on the new table.
    execute(f"ALTER TABLE {CLIENTS} RENAME TO {CLIENTS}_plain")
    execute(f"ALTER TABLE {CLIENTS}_plain DROP CONSTRAINT accesslog_one_client")
    execute(
        f"CREATE TABLE {CLIENTS} (LIKE {CLIENTS}_plain INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS) "
        "PARTITION BY RANGE (day)"
    )
    execute(f"DROP TABLE {CLIENTS}_plain")
    # A partitioned table's primary key and unique constraints must hold the partition key.
    execute(f"ALTER TABLE {CLIENTS} ADD PRIMARY KEY (day, id)")
    execute(f"ALTER TABLE {CLIENTS} ADD CONSTRAINT accesslog_one_client UNIQUE (day, digest)")


def _days(cursor, postgres: bool) -> list[datetime.date]:
    if postgres:
        cursor.execute(
            "SELECT child.relname FROM pg_inherits JOIN pg_class parent ON parent.oid = inhparent "
            "JOIN pg_class child ON child.oid = inhrelid WHERE parent.relname = %s",
            [RECORDS],
        )
        names = [name for (name,) in cursor.fetchall()]
        return sorted(datetime.datetime.strptime(name.rsplit("_", 1)[1], "%Y%m%d").date() for name in names)  # noqa: DTZ007
    cursor.execute(f"SELECT DISTINCT day FROM {RECORDS} ORDER BY day")  # noqa: S608  # nosec B608
    return [datetime.date.fromisoformat(str(day)) for (day,) in cursor.fetchall()]


def _opener(day: datetime.date):
    """The day's key for reading, or None once it is destroyed. The app's own code: the sealing format
    and the client key are the ones the ingester uses from now on."""
    from raksa.accesslog.daykeys import DayKeys, DayShreddedError

    try:
        return DayKeys().for_reading(day)
    except DayShreddedError:
        return None


def _shredded_client_key(ip_sealed: bytes, agent_sealed: bytes) -> str:
    """A client key for values nobody can open any more: unique to their sealed bytes, as their group is."""
    return hashlib.sha256(ip_sealed + agent_sealed).hexdigest()[:32]


def carry_over(apps, schema_editor):
    connection = schema_editor.connection
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        days = _days(cursor, postgres)
        if not days:
            return
        if postgres:
            # Not built again on each day's new partition below (the clients have their own now).
            cursor.execute("DROP INDEX IF EXISTS accesslog_record_day_ip")
        for day in days:
            _carry_day(cursor, day, postgres)


def _carry_day(cursor, day: datetime.date, postgres: bool) -> None:
    stored_day = day if postgres else day.isoformat()
    cursor.execute(
        f"SELECT ip_sealed, user_agent_sealed, MIN(id), MIN(ip_index), MIN(browser_family), MIN(browser_version), "  # noqa: S608  # nosec B608
        f"MIN(os_family), MIN(device_type) FROM {RECORDS} WHERE day = %s GROUP BY ip_sealed, user_agent_sealed "
        "ORDER BY 3",
        [stored_day],
    )
    groups = cursor.fetchall()
    if not groups:
        return
    opener = _opener(day)
    clients: dict[str, tuple] = {}  # by client key, in order of first arrival
    keys = []
    for ip_sealed, agent_sealed, _first, ip_index, *browser in groups:
        ip_sealed, agent_sealed = bytes(ip_sealed), bytes(agent_sealed)
        digest = _shredded_client_key(ip_sealed, agent_sealed)
        if opener is not None:
            try:
                ip = opener.unseal("ip", ip_sealed, ip_index)
                digest = opener.client_key(ip, opener.unseal("user_agent", agent_sealed, ip_index))
            except TamperedError:
                pass  # sealed under a key destroyed before the day's present one (a late record after a purge)
        clients.setdefault(digest, (stored_day, digest, ip_sealed, agent_sealed, ip_index, *browser))
        keys.append((ip_sealed, agent_sealed, ip_index, digest))
    columns = (
        "day, digest, ip_sealed, user_agent_sealed, ip_index, browser_family, browser_version, os_family, device_type"
    )
    ids: dict[str, int] = {}
    if postgres:
        # The clients' partition of the day, as the ingester makes it.
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {CLIENTS}_{day:%Y%m%d} PARTITION OF {CLIENTS} "
            f"FOR VALUES FROM ('{day.isoformat()}') TO ('{(day + datetime.timedelta(days=1)).isoformat()}')"
        )
        cursor.execute(
            f"INSERT INTO {CLIENTS} ({columns}) SELECT day, digest, ip_sealed, user_agent_sealed, ip_index, "  # noqa: S608  # nosec B608
            "browser_family, browser_version, os_family, device_type FROM unnest(%s::date[], %s::varchar[], "
            "%s::bytea[], %s::bytea[], %s::varchar[], %s::varchar[], %s::varchar[], %s::varchar[], %s::varchar[]) "
            "WITH ORDINALITY AS made (day, digest, ip_sealed, user_agent_sealed, ip_index, browser_family, "
            "browser_version, os_family, device_type, arrival) ORDER BY arrival RETURNING digest, id",
            [list(column) for column in zip(*clients.values(), strict=True)],
        )
        ids.update(cursor.fetchall())
        _swap_partition(
            cursor, day, [(ip_sealed, agent_sealed, ids[digest]) for ip_sealed, agent_sealed, _i, digest in keys]
        )
        return
    cursor.executemany(
        f"INSERT INTO {CLIENTS} ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",  # noqa: S608  # nosec B608
        list(clients.values()),
    )
    cursor.execute(f"SELECT digest, id FROM {CLIENTS} WHERE day = %s", [stored_day])  # noqa: S608  # nosec B608
    ids.update(cursor.fetchall())
    cursor.executemany(
        f"UPDATE {RECORDS} SET client_id = %s WHERE day = %s AND ip_index = %s AND ip_sealed = %s "  # noqa: S608  # nosec B608
        "AND user_agent_sealed = %s",
        [
            (ids[digest], stored_day, ip_index, ip_sealed, agent_sealed)
            for ip_sealed, agent_sealed, ip_index, digest in keys
        ],
    )


def _swap_partition(cursor, day: datetime.date, mapping: list[tuple[bytes, bytes, int]]) -> None:
    """The day's partition copied with each record's client ID and the moved columns empty (they are
    dropped next), then swapped in: narrow rows written once, where an UPDATE would write every row
    again beside its old version."""
    partition = f"{RECORDS}_{day:%Y%m%d}"
    kept = ", ".join(KEPT)
    cursor.execute(f"CREATE TABLE {partition}_new (LIKE {RECORDS} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    cursor.execute(
        f"INSERT INTO {partition}_new ({kept}, {', '.join(MOVED)}, client_id) "  # noqa: S608  # nosec B608
        f"SELECT {', '.join(f'r.{column}' for column in KEPT)}, {', '.join(["''"] * len(MOVED))}, m.client_id "
        f"FROM {partition} r JOIN unnest(%s::bytea[], %s::bytea[], %s::bigint[]) AS m (ip_sealed, user_agent_sealed, "
        "client_id) ON m.ip_sealed = r.ip_sealed AND m.user_agent_sealed = r.user_agent_sealed",
        [list(column) for column in zip(*mapping, strict=True)],
    )
    cursor.execute(f"ALTER TABLE {RECORDS} DETACH PARTITION {partition}")
    cursor.execute(f"DROP TABLE {partition}")
    cursor.execute(f"ALTER TABLE {partition}_new RENAME TO {partition}")
    cursor.execute(
        f"ALTER TABLE {RECORDS} ATTACH PARTITION {partition} "
        f"FOR VALUES FROM ('{day.isoformat()}') TO ('{(day + datetime.timedelta(days=1)).isoformat()}')"
    )
    # New tables have no statistics until autovacuum comes by (if it runs at all): plans would guess.
    cursor.execute(f"ANALYZE {partition}, {CLIENTS}_{day:%Y%m%d}")


def drop_moved(apps, schema_editor):
    """What RemoveField does for each moved column; its reverse alone could not add them back to a
    table with records (NOT NULL, no default)."""
    model = apps.get_model("accesslog", "AccessRecord")
    for name in MOVED:
        schema_editor.remove_field(model, model._meta.get_field(name))


def restore_moved(apps, schema_editor):
    """Back to 0004: the columns again, each record with its client's values; the client key stands in
    for the visitor key (one per client and day, as that was). A column comes back with an empty
    default so that a table with records takes it; PostgreSQL then drops the default (SQLite keeps it:
    dropping it there would copy the table, and every insert names the column anyway)."""
    model = apps.get_model("accesslog", "AccessRecord")
    for name in MOVED:
        field = model._meta.get_field(name)
        _name, path, args, kwargs = field.deconstruct()
        restored = type(field)(*args, **kwargs, db_default=b"" if isinstance(field, models.BinaryField) else "")
        restored.set_attributes_from_name(name)
        restored.model = model
        schema_editor.add_field(model, restored)
    copied = {**{name: name for name in MOVED}, "visitor": "digest"}
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {RECORDS} SET {', '.join(f'{name} = c.{source}' for name, source in copied.items())} "  # noqa: S608  # nosec B608
            f"FROM {CLIENTS} c WHERE c.day = {RECORDS}.day AND c.id = {RECORDS}.client_id"
        )
        if schema_editor.connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {RECORDS} {', '.join(f'ALTER COLUMN {name} DROP DEFAULT' for name in MOVED)}")


class Migration(migrations.Migration):
    dependencies = [("accesslog", "0004_weekly_rollups")]

    operations = [
        migrations.CreateModel(
            name="DayClient",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("day", models.DateField(verbose_name="day")),
                ("digest", models.CharField(max_length=32, verbose_name="client key")),
                ("ip_sealed", raksa.accesslog.models.DaySealedField(verbose_name="IP address (sealed)")),
                ("user_agent_sealed", raksa.accesslog.models.DaySealedField(verbose_name="browser string (sealed)")),
                ("ip_index", models.CharField(max_length=32, verbose_name="IP index")),
                ("browser_family", models.CharField(max_length=50, verbose_name="browser")),
                ("browser_version", models.CharField(max_length=20, verbose_name="browser version")),
                ("os_family", models.CharField(max_length=50, verbose_name="operating system")),
                ("device_type", models.CharField(max_length=10, verbose_name="device type")),
            ],
            options={
                "verbose_name": "access-log client",
                "verbose_name_plural": "access-log clients",
                "indexes": [models.Index(fields=["day", "ip_index"], name="accesslog_client_day_ip")],
                "constraints": [models.UniqueConstraint(fields=("day", "digest"), name="accesslog_one_client")],
            },
        ),
        migrations.RunPython(partition_clients, migrations.RunPython.noop, elidable=False),
        migrations.AddField(
            model_name="accessrecord",
            name="client_id",
            field=models.BigIntegerField(default=0, verbose_name="client"),
            preserve_default=False,
        ),
        migrations.RunPython(carry_over, migrations.RunPython.noop, elidable=False),
        migrations.RemoveIndex(model_name="accessrecord", name="accesslog_record_day_ip"),
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.RemoveField(model_name="accessrecord", name=name) for name in MOVED],
            database_operations=[migrations.RunPython(drop_moved, restore_moved, elidable=False)],
        ),
        migrations.AddIndex(
            model_name="accessrecord",
            index=models.Index(fields=["client_id"], name="accesslog_record_client"),
        ),
    ]
