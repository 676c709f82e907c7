import datetime

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import TransactionTestCase

from raksa.accesslog.daykeys import DayKeys
from raksa.accesslog.models import AccessRecord, DayClient
from raksa.accesslog.tests.helpers import CHROME, IPHONE, SpoolDirectory, client_of, record, spool_and_ingest

BEFORE = [("accesslog", "0004_weekly_rollups")]
DAY_CLIENTS = [("accesslog", "0005_day_clients")]
ROWID = [("accesslog", "0006_records_rowid")]
LATEST = [("accesslog", "0007_search_order_key")]
BANGKOK = datetime.timezone(datetime.timedelta(hours=7))
NOON = datetime.datetime(2026, 11, 20, 12, 0, tzinfo=BANGKOK)
DAY = NOON.date()


class MigrationTestCase(TransactionTestCase):
    databases = "__all__"

    def migrate(self, targets: list[tuple[str, str]]) -> None:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(targets)


class DayClientsMigrationTests(MigrationTestCase):
    """Migration 0005 moves what repeats per client and day out of the records into `DayClient`; a
    deployed server keeps its 90 days of records, which must come over with their clients."""

    def test_it_carries_existing_records_over_to_one_client_each_per_day(self) -> None:
        self.migrate(BEFORE)
        self.addCleanup(self.migrate, LATEST)
        old = MigrationExecutor(connection).loader.project_state(BEFORE).apps.get_model("accesslog", "AccessRecord")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for day in (DAY, DAY + datetime.timedelta(days=1)):
                    cursor.execute(
                        # Another test may have made it: a partition outlives the rows a test flushes.
                        f"CREATE TABLE IF NOT EXISTS accesslog_accessrecord_{day:%Y%m%d} "
                        "PARTITION OF accesslog_accessrecord "
                        f"FOR VALUES FROM ('{day}') TO ('{day + datetime.timedelta(days=1)}')"
                    )
        keys = DayKeys()

        def sealing(day: datetime.date, ip: str, agent: str) -> dict[str, object]:
            """A client as one Loader sealed it before 0005: a second Loader's sealing differs in every byte."""
            ip_sealed, agent_sealed, ip_index, visitor, _key = keys.for_writing(day).client(ip, agent)
            return {
                "ip_sealed": ip_sealed,
                "user_agent_sealed": agent_sealed,
                "ip_index": ip_index,
                "visitor": visitor,
                "browser_family": "Chrome" if agent == CHROME else "Mobile Safari",
                "browser_version": "120",
                "os_family": "Windows",
                "device_type": "desktop",
            }

        chrome, chrome_again = sealing(DAY, "203.0.113.5", CHROME), sealing(DAY, "203.0.113.5", CHROME)
        iphone = sealing(DAY, "203.0.113.5", IPHONE)
        next_day = sealing(DAY + datetime.timedelta(days=1), "203.0.113.5", CHROME)
        for minute, (path, client) in enumerate(
            [("/th/a/", chrome), ("/th/b/", iphone), ("/th/c/", chrome), ("/th/d/", chrome_again), ("/th/e/", next_day)]
        ):
            moment = NOON + datetime.timedelta(minutes=minute, days=1 if client is next_day else 0)
            old.objects.create(
                day=moment.date(),
                time=moment,
                method="GET",
                path=path,
                status=200,
                bytes_sent=10,
                duration_us=5,
                host="raksa.example",
                referrer="",
                **client,
            )

        self.migrate(DAY_CLIENTS)

        records = {stored.path: stored for stored in AccessRecord.objects.all()}
        self.assertEqual(sorted(records), ["/th/a/", "/th/b/", "/th/c/", "/th/d/", "/th/e/"])
        # Both Loaders' sealings of one client are one client; another browser or day is another.
        self.assertEqual(
            {records[path].client_id for path in ("/th/a/", "/th/c/", "/th/d/")}, {records["/th/a/"].client_id}
        )
        self.assertEqual(DayClient.objects.count(), 3)
        # In the order their first records arrived.
        self.assertLess(records["/th/a/"].client_id, records["/th/b/"].client_id)
        self.assertLess(records["/th/b/"].client_id, records["/th/e/"].client_id)
        opener = keys.for_reading(DAY)
        iphone_client = client_of(records["/th/b/"])
        self.assertEqual(opener.unseal("user_agent", iphone_client.user_agent_sealed, iphone_client.ip_index), IPHONE)
        self.assertEqual(opener.unseal("ip", iphone_client.ip_sealed, iphone_client.ip_index), "203.0.113.5")
        self.assertEqual(iphone_client.browser_family, "Mobile Safari")
        # The ingester finds a carried-over client again by its key.
        with SpoolDirectory() as spool:
            spool_and_ingest(spool.path, [record(when=NOON + datetime.timedelta(hours=2), ip="203.0.113.5")])
        self.assertEqual(
            AccessRecord.objects.get(time=NOON + datetime.timedelta(hours=2)).client_id, records["/th/a/"].client_id
        )
        self.assertEqual(DayClient.objects.count(), 3)

    def test_it_gives_records_their_clients_values_again_when_migrated_back(self) -> None:
        when = NOON + datetime.timedelta(hours=3)
        with SpoolDirectory() as spool:
            spool_and_ingest(
                spool.path,
                [
                    record(when=when, ip="203.0.113.7"),
                    record(when=when + datetime.timedelta(seconds=1), ip="203.0.113.8"),
                ],
            )
        clients = {client.id: client for client in DayClient.objects.all()}
        by_time = {stored.time: clients[stored.client_id] for stored in AccessRecord.objects.all()}

        self.migrate(BEFORE)
        self.addCleanup(self.migrate, LATEST)

        old = MigrationExecutor(connection).loader.project_state(BEFORE).apps.get_model("accesslog", "AccessRecord")
        opener = DayKeys().for_reading(DAY)
        back = {stored.time: stored for stored in old.objects.all()}
        self.assertEqual(set(back), set(by_time))
        for moment, stored in back.items():
            client = by_time[moment]
            self.assertEqual(
                (bytes(stored.ip_sealed), stored.ip_index, stored.visitor, stored.browser_family),
                (bytes(client.ip_sealed), client.ip_index, client.digest, client.browser_family),
            )
        self.assertEqual(
            {opener.unseal("ip", bytes(stored.ip_sealed), stored.ip_index) for stored in back.values()},
            {"203.0.113.7", "203.0.113.8"},
        )


class SearchOrderKeyMigrationTests(MigrationTestCase):
    """Migration 0007 keys the records by (time, id, day) on PostgreSQL, in place of (day, id) and the
    (day, time) index; SQLite keeps both."""

    def keys(self) -> tuple[list[list[str]], bool]:
        """The records' primary key columns, and whether the (day, time) index is there."""
        with connection.cursor() as cursor:
            constraints = connection.introspection.get_constraints(cursor, AccessRecord._meta.db_table)
        primary = [found["columns"] for found in constraints.values() if found["primary_key"]]
        return primary, "accesslog_record_day_time" in constraints

    def test_it_keys_the_records_by_time_on_postgresql_and_back_keeping_them(self) -> None:
        with SpoolDirectory() as spool:
            spool_and_ingest(spool.path, [record(when=NOON + datetime.timedelta(seconds=i)) for i in range(3)])
        postgres = connection.vendor == "postgresql"
        self.assertEqual(self.keys(), ([["time", "id", "day"]], False) if postgres else ([["id"]], True))

        self.migrate(ROWID)
        self.addCleanup(self.migrate, LATEST)
        self.assertEqual(self.keys(), ([["day", "id"]], True) if postgres else ([["id"]], True))
        self.assertEqual(AccessRecord.objects.count(), 3)

        self.migrate(LATEST)
        self.assertEqual(self.keys(), ([["time", "id", "day"]], False) if postgres else ([["id"]], True))
        self.assertEqual(
            list(AccessRecord.objects.order_by("time").values_list("time", flat=True)),
            [NOON + datetime.timedelta(seconds=i) for i in range(3)],
        )
