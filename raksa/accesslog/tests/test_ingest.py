import datetime
import hashlib
import hmac
import threading
from pathlib import Path
from unittest import mock

import psycopg
from django.db import DatabaseError, connection, connections
from django.test import TestCase, TransactionTestCase
from django.utils import timezone

from raksa.accesslog import actions, partitions, spool
from raksa.accesslog.daykeys import DayKeys, KeyedHash, SaltDestroyedError
from raksa.accesslog.ingest import Loader, _client_array, copy_rows, ingest_spool, truncate_ip
from raksa.accesslog.models import (
    AccessRecord,
    DailyCount,
    DailyTotal,
    DayClient,
    DayVisitor,
    Dimension,
    SpoolCursor,
    WeeklyCount,
    WeeklyTotal,
)
from raksa.accesslog.redaction import clean_referrer
from raksa.accesslog.tests.helpers import CHROME, IPHONE, SpoolDirectory, client_of, record, spool_and_ingest
from raksa.testing.backends import terminate_backend

BANGKOK = datetime.timezone(datetime.timedelta(hours=7))
NOON = datetime.datetime(2026, 11, 20, 12, 0, tzinfo=BANGKOK)


class IngestTests(TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        self.spool = self.enterContext(SpoolDirectory())

    def test_it_ingests_each_record_exactly_once_even_when_replayed_c2(self) -> None:
        writer = spool.SpoolWriter(self.spool.path)
        for i in range(30):
            writer.write(record(when=NOON + datetime.timedelta(seconds=i), path=f"/th/p{i}/"))
        writer.close()
        [path] = spool.spool_files(self.spool.path)
        copy = path.read_bytes()
        self.assertEqual(ingest_spool(directory=self.spool.path).records, 30)
        self.assertFalse(path.exists())
        # The file comes back (a crash before its deletion, a restored backup): nothing is added twice.
        path.write_bytes(copy)
        self.assertEqual(ingest_spool(directory=self.spool.path).records, 0)
        self.assertEqual(AccessRecord.objects.count(), 30)
        self.assertEqual(DailyTotal.objects.get().views, 30)

    def test_it_skips_sequences_already_ingested_after_losing_its_offset_c2(self) -> None:
        writer = spool.SpoolWriter(self.spool.path)
        for i in range(40):
            writer.write(record(when=NOON + datetime.timedelta(seconds=i)))
        [path] = spool.spool_files(self.spool.path)
        self.assertEqual(ingest_spool(directory=self.spool.path).records, 40)
        SpoolCursor.objects.filter(source=path.stem).update(offset=0)
        for i in range(5):
            writer.write(record(when=NOON + datetime.timedelta(minutes=1, seconds=i)))
        self.assertEqual(ingest_spool(directory=self.spool.path).records, 5)
        self.assertEqual(AccessRecord.objects.count(), 45)
        self.assertEqual(DailyTotal.objects.get().views, 45)
        writer.close()
        ingest_spool(directory=self.spool.path)
        self.assertEqual(spool.spool_files(self.spool.path), [])  # sealed and finished: deleted
        self.assertEqual(AccessRecord.objects.count(), 45)

    def test_it_resumes_after_non_ascii_lines_where_the_last_batch_ended_c2(self) -> None:
        # Lines are decoded a chunk at a time: the cursor's offset must still count bytes, not characters.
        path = Path(self.spool.path) / "otherhost_4243_1.spool"
        lines = [
            f"1\t{record(when=NOON, path='/th/ข่าว/')}\n".encode(),
            f"2\t{record(when=NOON, path='/th/a\\tb/')}\n".encode(),
            f"3\t{record(when=NOON, path='/th/x-/')}\n".encode().replace(b"x-", b"x\xff"),
        ]
        path.write_bytes(b"".join(lines))
        self.assertEqual(ingest_spool(directory=self.spool.path).records, 3)
        self.assertEqual(SpoolCursor.objects.get(source=path.stem).offset, path.stat().st_size)
        with path.open("ab") as spooled:
            spooled.write(f"4\t{record(when=NOON, path='/th/ต่อ/')}\n".encode())
        report = ingest_spool(directory=self.spool.path)
        self.assertEqual((report.records, report.broken), (1, []))
        self.assertEqual(
            sorted(AccessRecord.objects.values_list("path", flat=True)),
            ["/th/a\tb/", "/th/x\ufffd/", "/th/ข่าว/", "/th/ต่อ/"],
        )

    def test_it_seals_raw_ips_and_browsers_under_the_day_key_s4(self) -> None:
        spool_and_ingest(self.spool.path, [record(when=NOON, ip="198.51.100.23", agent=IPHONE)])
        stored = AccessRecord.objects.get()
        client = client_of(stored)
        self.assertNotIn(b"198.51.100.23", bytes(client.ip_sealed))
        self.assertNotIn(b"iPhone", bytes(client.user_agent_sealed))
        opener = DayKeys().for_reading(stored.day)
        self.assertEqual(opener.unseal("ip", client.ip_sealed, client.ip_index), "198.51.100.23")
        self.assertEqual(opener.ip_index("198.51.100.23"), client.ip_index)
        self.assertEqual(opener.client_key("198.51.100.23", IPHONE), client.digest)
        self.assertEqual(
            (client.browser_family, client.os_family, client.device_type), ("Mobile Safari", "iOS", "mobile")
        )
        self.assertEqual(stored.day, datetime.date(2026, 11, 20))

    def test_it_rolls_up_statistics_incrementally_without_raw_ips_p1(self) -> None:
        first = [record(when=NOON, ip="203.0.113.5", path="/th/news/", referrer="https://www.google.com/")]
        second = [
            record(when=NOON + datetime.timedelta(minutes=5), ip="203.0.113.5", path="/th/news/?page=2"),
            record(when=NOON + datetime.timedelta(hours=3), ip="2001:db8:1234:5678::1", agent=IPHONE, path="/th/"),
            record(when=NOON, ip="203.0.113.9", path="/th/missing/", status=404),
            record(when=NOON, ip="66.249.66.1", agent="Googlebot/2.1 (+http://www.google.com/bot.html)"),
        ]
        spool_and_ingest(self.spool.path, first)
        spool_and_ingest(self.spool.path, second)
        total = DailyTotal.objects.get()
        self.assertEqual((total.views, total.visitors), (3, 2))  # the 404 and the robot are not views
        counts = {(c.dimension, c.key): c.views for c in DailyCount.objects.all()}
        self.assertEqual(counts["page", "/th/news/"], 2)
        self.assertEqual(counts["hour", "12"], 2)
        self.assertEqual(counts["hour", "15"], 1)
        self.assertEqual(counts["referrer", "www.google.com"], 1)
        self.assertEqual(counts["network", "203.0.113.0/24"], 2)
        self.assertEqual(counts["network", "2001:db8:1234::/48"], 1)
        self.assertEqual(counts["device", "mobile"], 1)
        self.assertNotIn("203.0.113.5", repr(counts))

    def test_it_counts_pages_whose_addresses_hold_an_arrays_punctuation(self) -> None:
        # PostgreSQL's roll-up takes each column as one array written in its text form.
        paths = ['/th/"quoted"/', "/th/back\\slash/", "/th/a,b{c}/", "NULL", "/th/two words/", "/th/ไทย/"]
        spool_and_ingest(self.spool.path, [record(when=NOON, path=spool.escape(path)) for path in paths * 2])
        pages = dict(DailyCount.objects.filter(dimension="page").values_list("key", "views"))
        self.assertEqual(pages, dict.fromkeys(paths, 2))

    def test_it_compacts_a_closed_days_long_lists_p1(self) -> None:
        lines = [record(when=NOON, path=f"/th/p{i}/") for i in range(actions.COMPACT_KEEP + 20)]
        lines += [record(when=NOON, path="/th/p0/")] * 3
        spool_and_ingest(self.spool.path, lines)
        actions.destroy_past_salts(now=NOON + datetime.timedelta(days=1))
        pages = dict(DailyCount.objects.filter(dimension="page").values_list("key", "views"))
        self.assertEqual(len(pages), actions.COMPACT_KEEP + 1)
        self.assertEqual(pages["/th/p0/"], 4)
        self.assertEqual(pages[actions.OTHER], 20)
        self.assertEqual(sum(pages.values()), DailyTotal.objects.get().views)

    def test_it_rolls_up_a_finished_week_compacted_like_a_day_p1(self) -> None:
        monday = datetime.datetime(2026, 11, 16, 12, 0, tzinfo=BANGKOK)
        # Each day of the week its own 30 pages, and /th/p0/ every day: 210 values in the week.
        lines = [
            record(when=monday + datetime.timedelta(days=day), path=f"/th/d{day}p{i}/")
            for day in range(7)
            for i in range(30)
        ]
        lines += [record(when=monday + datetime.timedelta(days=day), path="/th/p0/") for day in range(7)]
        spool_and_ingest(self.spool.path, lines)
        actions.destroy_past_salts(now=monday + datetime.timedelta(days=6))  # Sunday: the week is not over
        self.assertFalse(WeeklyCount.objects.exists())

        actions.destroy_past_salts(now=monday + datetime.timedelta(days=7))
        pages = dict(WeeklyCount.objects.filter(week=monday.date(), dimension="page").values_list("key", "views"))
        self.assertEqual(len(pages), actions.COMPACT_KEEP + 1)
        self.assertEqual(pages["/th/p0/"], 7)
        self.assertEqual(sum(pages.values()), 217)
        self.assertEqual(pages[actions.OTHER], 217 - 7 - (actions.COMPACT_KEEP - 1))
        self.assertEqual(WeeklyTotal.objects.get(week=monday.date()).views, 217)
        hours = dict(WeeklyCount.objects.filter(dimension="hour").values_list("key", "views"))
        self.assertEqual(hours, {"12": 217})
        self.assertEqual(actions.roll_up_weeks(before=monday.date() + datetime.timedelta(days=7)), [])

    def test_it_rolls_up_a_week_again_after_a_late_record_p1(self) -> None:
        monday = datetime.datetime(2026, 11, 16, 12, 0, tzinfo=BANGKOK)
        spool_and_ingest(self.spool.path, [record(when=monday, path="/th/a/")])
        actions.destroy_past_salts(now=monday + datetime.timedelta(days=7))
        spool_and_ingest(self.spool.path, [record(when=monday + datetime.timedelta(days=2), path="/th/b/")])
        self.assertEqual(actions.roll_up_weeks(before=monday.date() + datetime.timedelta(days=8)), [monday.date()])
        pages = dict(WeeklyCount.objects.filter(dimension="page").values_list("key", "views"))
        self.assertEqual(pages, {"/th/a/": 1, "/th/b/": 1})
        self.assertEqual(WeeklyTotal.objects.get().views, 2)

    def test_it_truncates_ips_kept_for_statistics_p1(self) -> None:
        self.assertEqual(truncate_ip("192.0.2.201"), "192.0.2.0/24")
        self.assertEqual(truncate_ip("2001:db8:abcd:12:3456::9"), "2001:db8:abcd::/48")
        self.assertEqual(truncate_ip("::ffff:192.0.2.201"), "192.0.2.0/24")
        self.assertEqual(truncate_ip("not an address"), "")

    def test_it_computes_the_keyed_hashes_as_hmac_sha256(self) -> None:
        # The ingester's faster HMAC must give exactly hmac.digest's value, or old days stop being searchable.
        for key in (b"", b"k" * 32, bytes(range(64)), bytes(range(100))):
            for message in (b"", b"203.0.113.5", "2001:db8::1\x1fMozilla/5.0 (iPhone) ไทย".encode(), b"x" * 200):
                self.assertEqual(KeyedHash(key)(message), hmac.digest(key, message, hashlib.sha256))

    def test_it_destroys_yesterdays_visitor_salt_p1(self) -> None:
        spool_and_ingest(self.spool.path, [record(when=NOON, ip="203.0.113.5")])
        stored = AccessRecord.objects.get()
        day = DayKeys().for_writing(stored.day)
        self.assertEqual(DayVisitor.objects.get().visitor, day.visitor("203.0.113.5", CHROME))

        destroyed = actions.destroy_past_salts(now=NOON + datetime.timedelta(days=1))
        self.assertEqual(destroyed, [datetime.date(2026, 11, 20)])
        with self.assertRaises(SaltDestroyedError):
            DayKeys().for_writing(stored.day).visitor("203.0.113.5", CHROME)
        self.assertFalse(DayVisitor.objects.exists())
        # A late record of the closed day still counts as a view, never as a visitor.
        spool_and_ingest(self.spool.path, [record(when=NOON, ip="203.0.113.77")])
        total = DailyTotal.objects.get()
        self.assertEqual((total.views, total.visitors), (2, 1))
        self.assertFalse(DayVisitor.objects.exists())
        # Nothing stored with the records or their clients recomputes a visitor key.
        self.assertNotIn("visitor", {field.name for model in (AccessRecord, DayClient) for field in model._meta.fields})

    def test_it_stores_a_client_once_a_day_and_finds_it_again_in_another_ingester_c2(self) -> None:
        spool_and_ingest(self.spool.path, [record(when=NOON, ip="203.0.113.5"), record(when=NOON, ip="203.0.113.5")])
        # Another ingester (each run has its own Loader, as after a restart) meets the same client,
        # the same address with another browser, and the same client the next day.
        spool_and_ingest(
            self.spool.path,
            [
                record(when=NOON + datetime.timedelta(hours=1), ip="203.0.113.5"),
                record(when=NOON + datetime.timedelta(hours=1), ip="203.0.113.5", agent=IPHONE),
                record(when=NOON + datetime.timedelta(days=1), ip="203.0.113.5"),
            ],
        )
        first, again, repeated, other_browser, next_day = AccessRecord.objects.order_by("time", "id")
        self.assertEqual({first.client_id, again.client_id, repeated.client_id}, {first.client_id})
        self.assertEqual(len({first.client_id, other_browser.client_id, next_day.client_id}), 3)
        self.assertEqual(DayClient.objects.count(), 3)
        self.assertEqual(client_of(next_day).day, datetime.date(2026, 11, 21))
        # IDs follow arrival: the records' index on them grows at its right edge.
        self.assertLess(first.client_id, other_browser.client_id)
        self.assertLess(other_browser.client_id, next_day.client_id)

    def test_it_ingests_what_a_dead_worker_left_and_reports_a_torn_line(self) -> None:
        leftover = Path(self.spool.path) / "otherhost_4242_1.sealed"
        lines = [f"{i + 1}\t{record(when=NOON)}" for i in range(3)]
        leftover.write_text("\n".join(lines) + "\n4\t17953")
        with self.assertLogs("raksa.accesslog.ingest", level="ERROR"):
            report = ingest_spool(directory=self.spool.path)
        self.assertEqual(report.records, 3)
        self.assertEqual(len(report.broken), 1)
        self.assertFalse(leftover.exists())

    def test_it_passes_over_damaged_records_and_keeps_ingesting_c2(self) -> None:
        # A file damaged on disk: numbers no column holds, a time no calendar has, an account that is no
        # UUID. Each stopped its file, and every file after it, at every round for good.
        good = record(when=NOON)
        fields = good.split("\t")
        damaged = [
            "\t".join([*fields[:4], "9" * 30, *fields[5:]]),  # bytes past a bigint
            "\t".join(["9" * 20, *fields[1:]]),  # a time past the year 9999
            "\t".join([*fields[:3], "99999", *fields[4:]]),  # a status past a smallint
            "\t".join([*fields[:10], "not-an-account", *fields[11:]]),
            "\t".join([*fields[:3], "20\u00b2", *fields[4:]]),  # a digit to str.isdigit, not to int
        ]
        first = Path(self.spool.path) / "host_1_1.sealed"
        first.write_text("".join(f"{n}\t{line}\n" for n, line in enumerate([good, *damaged, good], start=1)))
        second = Path(self.spool.path) / "host_1_2.sealed"
        second.write_text(f"1\t{good}\n")
        with self.assertLogs("raksa.accesslog.ingest", level="ERROR") as logs:
            report = ingest_spool(directory=self.spool.path)
        self.assertEqual((report.records, len(report.broken), report.deleted), (3, 5, 2))
        self.assertEqual(AccessRecord.objects.count(), 3)
        self.assertNotIn("not-an-account", "\n".join(logs.output + report.broken))
        # The cursor is past them: a replay adds nothing and reports nothing.
        first.write_text("".join(f"{n}\t{line}\n" for n, line in enumerate([good, *damaged, good], start=1)))
        self.assertEqual(ingest_spool(directory=self.spool.path).records, 0)

    def test_it_counts_only_other_sites_as_referring_and_never_stops_at_a_long_own_page_p1(self) -> None:
        # Our own page is kept as a path; one such as "/x://AAAA…" was counted as a "site" of 600
        # characters, past the roll-up key's 500: PostgreSQL refused the batch at every round.
        own = clean_referrer("https://raksa.example/x://" + "A" * 600, "raksa.example")
        other = clean_referrer("https://www.google.com/search?q=me", "raksa.example")
        lines = [record(when=NOON, referrer=own), record(when=NOON, referrer=other), record(when=NOON)]
        self.assertEqual(spool_and_ingest(self.spool.path, lines), 3)
        sites = DailyCount.objects.filter(dimension=Dimension.REFERRER).values_list("key", "views")
        self.assertEqual(list(sites), [("www.google.com", 1)])

    def test_it_stores_each_day_in_its_own_partition_on_postgresql(self) -> None:
        if connection.vendor != "postgresql":
            self.skipTest("partitions exist on PostgreSQL only; SQLite deletes in batches")
        spool_and_ingest(self.spool.path, [record(when=NOON), record(when=NOON + datetime.timedelta(days=1))])
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM accesslog_accessrecord_20261121")
            self.assertEqual(cursor.fetchone()[0], 1)
            cursor.execute("SELECT count(*) FROM accesslog_dayclient_20261121")
            self.assertEqual(cursor.fetchone()[0], 1)
        self.assertTrue(timezone.now())

    def test_it_binds_new_clients_text_columns_as_array_text_that_reads_back_the_same(self) -> None:
        if connection.vendor != "postgresql":
            self.skipTest("SQLite takes the new clients by executemany")
        values = ['Say "hi"', "back\\slash", "a,b", "{braces}", "NULL", "", " spaced ", "tab\tline\n", "ไทย"]
        days = [datetime.date(2026, 11, 20), datetime.date(2026, 11, 21)]
        # Bound as the ingester binds them: on the server, in the binary format.
        with connection.cursor() as cursor, psycopg.Cursor(cursor.cursor.connection) as bound:
            bound.execute("SELECT unnest(%s::varchar[])", [_client_array("varchar", values)], binary=True)
            self.assertEqual([value for (value,) in bound.fetchall()], values)
            bound.execute("SELECT unnest(%s::date[])", [_client_array("date", days)], binary=True)
            self.assertEqual([value for (value,) in bound.fetchall()], days)

    def test_it_numbers_records_in_arrival_order_without_a_sequence_row_on_sqlite(self) -> None:
        spool_and_ingest(self.spool.path, [record(when=NOON, path=f"/th/p{i}/") for i in range(3)])
        by_id = AccessRecord.objects.order_by("id").values_list("path", flat=True)
        self.assertEqual(list(by_id), ["/th/p0/", "/th/p1/", "/th/p2/"])
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM sqlite_sequence WHERE name = 'accesslog_accessrecord'")
                self.assertEqual(cursor.fetchone()[0], 0)


class TwoIngestersTests(TransactionTestCase):
    """Two ingesters started at once on one host over the same spool (threads here: the lock is per
    open directory, so two threads conflict exactly as two processes do)."""

    databases = "__all__"

    def test_it_ingests_each_record_once_when_two_ingesters_start_together_c2(self) -> None:
        with SpoolDirectory() as directory:
            writer = spool.SpoolWriter(directory.path)
            for i in range(600):
                writer.write(record(when=NOON + datetime.timedelta(seconds=i), path=f"/th/p{i}/"))
            writer.close()
            start = threading.Barrier(2)
            reports: list[int] = []
            failures: list[BaseException] = []

            def ingester() -> None:
                try:
                    start.wait()
                    reports.append(ingest_spool(directory=directory.path, batch_size=25).records)
                except BaseException as error:  # reported by the test below
                    failures.append(error)
                finally:
                    connections.close_all()

            threads = [threading.Thread(target=ingester) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        self.assertEqual(failures, [])
        self.assertEqual(sorted(reports), [0, 600])
        self.assertEqual(AccessRecord.objects.count(), 600)
        self.assertEqual(AccessRecord.objects.values("path").distinct().count(), 600)
        self.assertEqual(DailyTotal.objects.get().views, 600)

    def test_it_makes_one_client_when_two_ingesters_meet_new_clients_at_once_c2(self) -> None:
        # Each ingester's batch holds the same 2,000 new clients of the day, in opposite orders, stored
        # at the same moment (the day's key and partitions made first, so that neither waits for
        # them): no client twice, no deadlock, every record pointing to its day's client.
        if connection.vendor != "postgresql":
            self.skipTest("SQLite has one writer at a time: two ingesters never insert at once")
        clients = [(f"198.51.{i // 250}.{i % 250}", CHROME if i % 2 else IPHONE) for i in range(2_000)]
        batches = [
            [
                record(when=NOON + datetime.timedelta(seconds=i), ip=ip, agent=agent).split("\t")
                for i, (ip, agent) in enumerate(order)
            ]
            for order in (clients, clients[::-1])
        ]
        keys = DayKeys().for_writing(datetime.date(2026, 11, 20))
        partitions.ensure_days(["2026-11-20"])
        start = threading.Barrier(2)
        failures: list[BaseException] = []

        def ingester(number: int) -> None:
            try:
                loader = Loader()
                start.wait()
                loader.store(batches[number], source=f"ingester-{number}", last_sequence=2_000, offset=0)
            except BaseException as error:  # reported by the test below
                failures.append(error)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=ingester, args=(number,)) for number in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(failures, [])
        self.assertEqual(AccessRecord.objects.count(), 4_000)
        digests = dict(DayClient.objects.values_list("id", "digest"))
        self.assertEqual(sorted(digests.values()), sorted(keys.client_key(ip, agent) for ip, agent in clients))
        self.assertFalse(AccessRecord.objects.exclude(client_id__in=list(digests)).exists())
        self.assertEqual(DailyTotal.objects.get().visitors, 2_000)

    def test_it_makes_a_new_days_partitions_without_waiting_for_another_ingesters_batch(self) -> None:
        # Another ingester's batch is open, its rows written into the records' table: a new day's
        # partitions are made meanwhile (`CREATE TABLE … PARTITION OF` waited for that whole batch), and
        # are the parent's partitions, its indexes included.
        if connection.vendor != "postgresql":
            self.skipTest("partitions exist on PostgreSQL only")
        partitions.ensure_days(["2026-11-20"])
        writing, done = threading.Event(), threading.Event()
        failures: list[BaseException] = []

        def hold_the_batch_open() -> None:
            writing.set()
            done.wait(30)

        def other_ingester() -> None:
            try:
                Loader().store(
                    [record(when=NOON).split("\t")],
                    source="other",
                    last_sequence=1,
                    offset=0,
                    written=hold_the_batch_open,
                )
            except BaseException as error:  # reported by the test below
                failures.append(error)
                writing.set()
            finally:
                connections.close_all()

        thread = threading.Thread(target=other_ingester)
        thread.start()
        try:
            self.assertTrue(writing.wait(30))
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '2s'")
            try:
                partitions.ensure_days(["2026-11-21"])
            finally:
                with connection.cursor() as cursor:
                    cursor.execute("RESET lock_timeout")
        finally:
            done.set()
            thread.join()
        self.assertEqual(failures, [])
        with SpoolDirectory() as directory:
            spool_and_ingest(directory.path, [record(when=NOON + datetime.timedelta(days=1), path="/th/new/")])
        with connection.cursor() as cursor:
            cursor.execute("SELECT path FROM accesslog_accessrecord_20261121")
            self.assertEqual(cursor.fetchall(), [("/th/new/",)])
            cursor.execute(
                "SELECT parent.relname FROM pg_inherits JOIN pg_class parent ON parent.oid = inhparent "
                "JOIN pg_class child ON child.oid = inhrelid WHERE child.relname LIKE %s ORDER BY 1",
                ["%20261121%"],
            )
            parents = [name for (name,) in cursor.fetchall()]
        self.assertEqual(
            parents,
            sorted(
                [
                    "accesslog_accessrecord",
                    "accesslog_accessrecord_pkey",
                    "accesslog_record_client",
                    "accesslog_record_signed_in",
                    "accesslog_dayclient",
                    "accesslog_dayclient_pkey",
                    "accesslog_one_client",
                    "accesslog_client_day_ip",
                ]
            ),
        )
        self.assertEqual(AccessRecord.objects.count(), 2)

    def test_it_ingests_each_record_once_with_processes_sharing_the_files_c2(self) -> None:
        with SpoolDirectory() as directory:
            # Four files, as four server workers leave them.
            for worker in range(4):
                writer = spool.SpoolWriter(directory.path)
                for i in range(150):
                    moment = NOON + datetime.timedelta(seconds=worker * 150 + i)
                    writer.write(record(when=moment, path=f"/th/w{worker}/{i}/"))
                writer.close()
            report = ingest_spool(directory=directory.path, batch_size=40, workers=2)
            self.assertEqual(spool.spool_files(directory.path), [])
        self.assertEqual((report.records, report.files, report.deleted), (600, 4, 4))
        self.assertEqual(AccessRecord.objects.count(), 600)
        self.assertEqual(AccessRecord.objects.values("path").distinct().count(), 600)
        self.assertEqual(DailyTotal.objects.get().views, 600)
        self.assertEqual(DailyTotal.objects.get().visitors, 1)


class DatabaseGoneTests(TransactionTestCase):
    """PostgreSQL going away in the middle of a batch (a restart): the ingester's follow loop survives
    Django's DatabaseError only, so the driver's own error from the COPY must arrive as one."""

    databases = "__all__"

    def setUp(self) -> None:
        if connection.vendor != "postgresql":
            self.skipTest("ends the ingester's PostgreSQL backend from another session (pg_terminate_backend)")

    def test_it_raises_djangos_error_when_the_database_goes_mid_copy_and_loses_nothing_s1(self) -> None:
        ended: list[int] = []

        def copy_after_a_restart(cursor: object, rows: object) -> None:
            if not ended:
                ended.append(terminate_backend(connection))
            copy_rows(cursor, rows)  # type: ignore[arg-type]

        with SpoolDirectory() as directory:
            writer = spool.SpoolWriter(directory.path)
            for i in range(50):
                writer.write(record(when=NOON + datetime.timedelta(seconds=i), path=f"/th/p{i}/"))
            writer.close()
            with mock.patch("raksa.accesslog.ingest.copy_rows", copy_after_a_restart), self.assertRaises(DatabaseError):
                ingest_spool(directory=directory.path)
            self.assertEqual(len(ended), 1)
            self.assertEqual(ingest_spool(directory=directory.path).records, 50)
        self.assertEqual(AccessRecord.objects.count(), 50)
        self.assertEqual(DailyTotal.objects.get().views, 50)
