import contextlib
import datetime
import gzip
import hashlib
import io
import os
import shutil
import signal
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, connection, connections
from django.test import SimpleTestCase, TestCase, TransactionTestCase, override_settings
from django.utils import timezone

from raksa import devkeys
from raksa.accesslog import rdns, spool
from raksa.accesslog.actions import destroy_past_salts, local_today, purge_expired_days
from raksa.accesslog.daykeys import DayKeys, SaltDestroyedError, destroy_salts_before
from raksa.accesslog.importer import CutOffPassedError, import_logs
from raksa.accesslog.ingest import Loader, Rollup, can_fork
from raksa.accesslog.models import AccessRecord, DailyTotal, DayClient, DayKey, DayVisitor, ReverseName, SpoolCursor
from raksa.accesslog.tests.helpers import SpoolDirectory, client_of, record
from raksa.testing import production

# Real nginx/Apache combined-format lines, as the default log_format writes them, and two broken ones.
LOG = (Path(__file__).parent / "combined.log").read_text()
# The day the fixed-date logs below are imported on: the import refuses lines older than the raw
# records' retention, which these would become some months from now.
IMPORTED_ON = datetime.date(2026, 11, 23)


def imported_on(test: SimpleTestCase, day: datetime.date = IMPORTED_ON) -> None:
    patcher = mock.patch("raksa.accesslog.importer.local_today", return_value=day)
    patcher.start()
    test.addCleanup(patcher.stop)


class ImportTests(TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        self.directory = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.directory, ignore_errors=True)
        imported_on(self)

    def run_import(self, *paths: Path) -> str:
        out, err = io.StringIO(), io.StringIO()
        call_command("accesslog", "import", *map(str, paths), "--host", "raksa.example", stdout=out, stderr=err)
        self.assertIn("100%", err.getvalue())  # the progress bar reached its end
        return out.getvalue()

    def test_it_imports_combined_logs_and_reports_broken_lines_by_number_c2(self) -> None:
        plain = self.directory / "access.log"
        plain.write_text(LOG)
        output = self.run_import(plain)
        self.assertIn("imported 4 of 6 lines (0 already imported, 2 broken)", output)
        self.assertIn("broken: access.log line 2", output)
        self.assertIn("broken: access.log line 5", output)
        paths = sorted(AccessRecord.objects.values_list("path", flat=True))
        self.assertEqual(paths, ["/en/", "/th/", "/th/contact/", "/th/news/?page=2"])
        first = AccessRecord.objects.get(path="/th/news/?page=2")
        self.assertEqual(first.time.isoformat(), "2026-11-21T02:15:02+00:00")
        client = client_of(first)
        self.assertEqual(
            DayKeys().for_reading(first.day).unseal("ip", client.ip_sealed, client.ip_index), "203.0.113.7"
        )
        self.assertEqual(AccessRecord.objects.get(path="/th/contact/").referrer, "/th/contact/")
        # Again: nothing is added twice.
        self.assertIn("imported 0 of 6 lines (6 already imported", self.run_import(plain))
        self.assertEqual(AccessRecord.objects.count(), 4)

    def test_it_reads_gzip_logs_too_c2(self) -> None:
        packed = self.directory / "access.log.1.gz"
        packed.write_bytes(gzip.compress(LOG.encode()))
        self.assertIn("imported 4 of 6 lines", self.run_import(packed))
        self.assertEqual(DailyTotal.objects.get().views, 3)  # the POST is a record, not a page view

    def test_it_reports_lines_the_database_cannot_hold_as_broken_and_imports_the_rest(self) -> None:
        # Each parses as a combined-format line, but its value would stop the batch (and every rerun at
        # it): a size past a 64-bit column, impossible or future times, a NUL in a text field.
        good = LOG.splitlines()[0]
        soon = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=20)
        late = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=2)
        lines = [
            good,
            good.replace(" 5123 ", " 99999999999999999999999 "),
            good.replace("21/Nov/2026:09:15:02 +0700", "31/Dec/9999:23:59:59 -2359"),
            good.replace("21/Nov/2026:09:15:02 +0700", "21/Nov/2026:99:99:99 +0700"),
            good.replace("21/Nov/2026:09:15:02 +0700", "31/Nov/2026:09:15:02 +0700"),
            good.replace("/th/news/", "/th/\0news/"),
            good.replace("Mozilla/5.0", "Mozilla/\x005.0"),
            good.replace("203.0.113.7", "203.0.\x00113.7"),
            good.replace("21/Nov/2026:09:15:02 +0700", f"{late:%d/%b/%Y:%H:%M:%S} +0000"),
            good.replace("21/Nov/2026:09:15:02 +0700", f"{soon:%d/%b/%Y:%H:%M:%S} +0000").replace("news", "soon"),
            good.replace(" 5123 ", " 999999999999999999 ").replace("news", "big"),
        ]
        log = self.directory / "odd.log"
        log.write_text("\n".join(lines) + "\n")
        output = self.run_import(log)
        self.assertIn("imported 3 of 11 lines (0 already imported, 8 broken)", output)
        for number in range(2, 10):
            self.assertIn(f"broken: odd.log line {number}\n", output)
        self.assertEqual(
            sorted(AccessRecord.objects.values_list("path", "bytes_sent")),
            [("/th/big/?page=2", 999999999999999999), ("/th/news/?page=2", 5123), ("/th/soon/?page=2", 5123)],
        )
        # The cursor moved past them: a rerun adds nothing and fails nowhere.
        self.assertIn("imported 0 of 11 lines (11 already imported, 0 broken)", self.run_import(log))

    def test_it_reports_two_lines_run_together_as_broken(self) -> None:
        # A line cut short in its browser string, the next one after it on the same line: the first's
        # browser string would take the second's address and time, and its request go uncounted.
        first, second = LOG.splitlines()[0], LOG.splitlines()[3]
        together, extended = first[:-40] + second, second + ' "10.0.0.1, 10.0.0.2" 0.005 rt=0.005'
        # Both ways a batch's lines are read: one pattern over its text, and line by line when one is broken.
        for name, lines in (("cut.log", [together, extended]), ("cut-2.log", [together, extended, "junk"])):
            log = self.directory / name
            log.write_text("\n".join(lines) + "\n")
            output = self.run_import(log)
            self.assertIn(f"imported 1 of {len(lines)} lines (0 already imported, {len(lines) - 1} broken)", output)
            self.assertIn(f"broken: {name} line 1\n", output)
        self.assertEqual(AccessRecord.objects.count(), 2)  # the line with more fields, from each file

    def test_it_imports_what_a_cut_gzip_log_holds_and_says_it_is_unfinished(self) -> None:
        lines = [combined_line(second, f"/th/{second}/") for second in range(3000)]
        packed = self.directory / "access.log.2.gz"
        packed.write_bytes(gzip.compress("".join(lines).encode())[:-200])
        output = self.run_import(packed)
        self.assertIn("unfinished: access.log.2.gz ends early or is damaged (compressed)", output)
        imported = AccessRecord.objects.count()
        self.assertTrue(1000 < imported < 3000, imported)
        self.assertIn(f"imported {imported} of {imported} lines (0 already imported, 0 broken)", output)
        # The lines before the cut, whole, in order: none taken from the partial last one.
        self.assertEqual(
            sorted(AccessRecord.objects.values_list("path", flat=True)),
            sorted(f"/th/{second}/" for second in range(imported)),
        )
        self.assertIn(f"imported 0 of {imported} lines ({imported} already imported", self.run_import(packed))

    def test_it_leaves_a_growing_logs_unfinished_last_line_for_the_next_run(self) -> None:
        log = self.directory / "access.log"
        lines = [combined_line(second, f"/th/{second}/") for second in range(3)]
        log.write_text(lines[0] + lines[1] + lines[2][:50])
        output = self.run_import(log)
        self.assertIn("imported 2 of 2 lines (0 already imported, 0 broken)", output)
        self.assertIn("waiting: access.log line 3 has no newline yet; it is left for the next run", output)
        with log.open("a") as more:
            more.write(lines[2][50:])
        output = self.run_import(log)
        self.assertIn("imported 1 of 3 lines (2 already imported, 0 broken)", output)
        self.assertNotIn("waiting", output)
        self.assertEqual(AccessRecord.objects.count(), 3)

    def test_it_imports_a_log_rotated_under_the_same_path_from_its_first_line(self) -> None:
        log = self.directory / "access.log"
        log.write_text("".join(combined_line(second, f"/th/old-{second}/") for second in range(3)))
        self.assertIn("imported 3 of 3 lines", self.run_import(log))
        log.write_text("".join(combined_line(100 + second, f"/th/new-{second}/") for second in range(5)))
        self.assertIn("imported 5 of 5 lines (0 already imported, 0 broken)", self.run_import(log))
        self.assertEqual(AccessRecord.objects.filter(path__startswith="/th/new-").count(), 5)

    def test_it_resumes_from_a_cursor_named_by_the_path_only(self) -> None:
        # Imports before the cursor was named by the first line too: their cursor is taken over.
        log = self.directory / "access.log"
        log.write_text("".join(combined_line(second, f"/th/{second}/") for second in range(5)))
        by_path = "import:" + hashlib.sha256(str(log.resolve()).encode()).hexdigest()[:48]
        SpoolCursor.objects.create(source=by_path, last_sequence=3)
        self.assertIn("imported 2 of 5 lines (3 already imported, 0 broken)", self.run_import(log))
        self.assertEqual(sorted(AccessRecord.objects.values_list("path", flat=True)), ["/th/3/", "/th/4/"])
        self.assertFalse(SpoolCursor.objects.filter(source=by_path).exists())
        self.assertIn("imported 0 of 5 lines (5 already imported", self.run_import(log))

    def test_it_refuses_lines_older_than_the_raw_retention_and_says_so(self) -> None:
        today = local_today()
        kept, expired = today - datetime.timedelta(days=90), today - datetime.timedelta(days=91)
        log = self.directory / "old.log"
        log.write_text(
            "".join(
                local_line(day, path)
                for day, path in ((expired, "/th/a/"), (kept, "/th/b/"), (today, "/th/c/"), (expired, "/th/d/"))
            )
        )
        # The cut-off is the first second of the oldest kept day in the site's time zone (7 hours from
        # UTC's), written here in UTC: a cut-off taken in UTC would refuse the first and keep the second.
        zone = ZoneInfo(settings.TIME_ZONE)
        with log.open("a") as more:
            for when, path in (
                (datetime.datetime.combine(kept, datetime.time(0), zone), "/th/kept-first/"),
                (datetime.datetime.combine(expired, datetime.time(23, 59, 59), zone), "/th/expired-last/"),
            ):
                more.write(line_at(when.astimezone(datetime.UTC), path))
        imported_on(self, today)
        output = self.run_import(log)
        self.assertIn("imported 3 of 6 lines (0 already imported, 0 broken)", output)
        self.assertIn("refused: 3 lines older than the 90 days raw access records are kept", output)
        self.assertEqual(
            sorted(AccessRecord.objects.values_list("path", "day")),
            [("/th/b/", kept), ("/th/c/", today), ("/th/kept-first/", kept)],
        )
        self.assertFalse(DayKey.objects.using("keystore").filter(day=expired).exists())  # no key made for it
        # Refused lines are passed over for good: a rerun finds them already imported.
        self.assertIn("imported 0 of 6 lines (6 already imported", self.run_import(log))

    def two_logs_of_the_oldest_day_and_today(self) -> tuple[datetime.date, datetime.date, Path, Path, mock.Mock]:
        """Today, the oldest day kept, two logs with a line of each, and the importer's clock (a mock)."""
        today = local_today()
        oldest = today - datetime.timedelta(days=90)
        first, second = self.directory / "1.log", self.directory / "2.log"
        first.write_text(local_line(oldest, "/th/1-old/") + local_line(today, "/th/1-new/"))
        second.write_text(local_line(oldest, "/th/2-old/") + local_line(today, "/th/2-new/"))
        clock = mock.patch("raksa.accesslog.importer.local_today", return_value=today)
        importer_today = clock.start()
        self.addCleanup(clock.stop)
        return today, oldest, first, second, importer_today

    def test_it_does_not_bring_back_a_day_purged_while_it_imports(self) -> None:
        # One Loader for the whole run: a purge between two files removes the oldest day it had
        # clients of; the second file's lines of that day are refused, not pointed at a purged client.
        # The refusal is what keeps them out (they never reach the Loader, so this passes without
        # Loader.forget_days_before, whose forgetting test_a_loader_forgets_the_clients_… proves).
        today, oldest, first, second, importer_today = self.two_logs_of_the_oldest_day_and_today()
        tomorrow = timezone.now() + datetime.timedelta(days=1)

        def purge_after_the_first(path: Path, done: int, size: int) -> None:
            if path == first and done == size and importer_today.return_value == today:
                importer_today.return_value = today + datetime.timedelta(days=1)
                self.assertEqual(purge_expired_days(now=tomorrow).purged, [oldest])

        report = import_logs([first, second], progress=purge_after_the_first)
        self.assertEqual((report.imported, report.refused), (3, 1))
        self.assertEqual(sorted(AccessRecord.objects.values_list("path", flat=True)), ["/th/1-new/", "/th/2-new/"])
        self.assertFalse(DayClient.objects.filter(day=oldest).exists())
        self.assertFalse(DayKey.objects.using("keystore").filter(day=oldest).exists())
        clients = set(DayClient.objects.values_list("id", flat=True))
        self.assertTrue(set(AccessRecord.objects.values_list("client_id", flat=True)) <= clients)

    def test_it_counts_no_visitor_of_a_day_closed_while_it_imports(self) -> None:
        # One Loader for the whole run: yesterday closes (its salt destroyed) between the two files; the
        # second file's lines of yesterday are views only, as a new Loader would count them.
        yesterday = local_today() - datetime.timedelta(days=1)
        first, second = self.directory / "1.log", self.directory / "2.log"
        first.write_text(local_line(yesterday, "/th/a/"))
        second.write_text(
            "".join(
                local_line(yesterday, "/th/b/").replace("203.0.113.9", ip)
                for ip in ("203.0.113.9", "198.51.100.1", "198.51.100.2")
            )
        )

        closed: list[datetime.date] = []

        def close_after_the_first(path: Path, done: int, size: int) -> None:
            if path == first and done == size and not closed:
                closed.extend(destroy_past_salts())

        report = import_logs([first, second], progress=close_after_the_first)
        self.assertEqual((closed, report.imported), ([yesterday], 4))
        total = DailyTotal.objects.get(day=yesterday)
        self.assertEqual((total.views, total.visitors), (4, 1))
        self.assertFalse(DayVisitor.objects.filter(day=yesterday).exists())

    def test_it_does_not_store_a_batch_whose_day_was_purged_while_it_waited(self) -> None:
        # The second file's batch is made before a midnight and stored after the purge that followed
        # it: its line of the day purged (whose client and key the Loader met in the first file) must
        # not be stored, pointing at the purged client; the batch fails and a rerun refuses it.
        today, oldest, first, second, importer_today = self.two_logs_of_the_oldest_day_and_today()
        store = Loader.store

        def purge_before_the_second(loader: Loader, records: list, **kwargs: Any) -> int:
            if any(row[7] == "/th/2-old/" for row in records) and importer_today.return_value == today:
                importer_today.return_value = today + datetime.timedelta(days=1)
                self.assertEqual(purge_expired_days(now=timezone.now() + datetime.timedelta(days=1)).purged, [oldest])
            return store(loader, records, **kwargs)

        with mock.patch.object(Loader, "store", purge_before_the_second), self.assertRaises(CutOffPassedError):
            import_logs([first, second])
        self.assertEqual(sorted(AccessRecord.objects.values_list("path", flat=True)), ["/th/1-new/"])
        self.assertFalse(DayClient.objects.filter(day=oldest).exists())
        report = import_logs([second])
        self.assertEqual((report.imported, report.refused), (1, 1))
        self.assertEqual(sorted(AccessRecord.objects.values_list("path", flat=True)), ["/th/1-new/", "/th/2-new/"])

    def test_a_loader_forgets_the_clients_of_days_before_the_cut_off(self) -> None:
        # The same client on a day the Loader met before and that a purge then removed: after
        # forget_days_before it is made again, not found in the Loader's memory with its purged ID.
        day = local_today() - datetime.timedelta(days=90)
        noon = datetime.datetime.combine(day, datetime.time(12), ZoneInfo(settings.TIME_ZONE))
        records = [record(when=noon, ip="192.0.2.1").split("\t")]
        loader = Loader()
        loader.store(records, source="test", last_sequence=1, offset=0)
        purge_expired_days(now=timezone.now() + datetime.timedelta(days=1))
        self.assertFalse(DayClient.objects.exists())
        loader.forget_days_before(day)  # the day is still kept: nothing is forgotten
        loader.forget_days_before(day + datetime.timedelta(days=1))
        loader.store(records, source="test", last_sequence=2, offset=0)
        self.assertEqual(AccessRecord.objects.get().client_id, DayClient.objects.get(day=day).id)

    def test_a_loader_retrying_a_failed_batch_points_its_records_at_saved_clients(self) -> None:
        # An import's batch saves its new clients inside its turn (SQLite), in the batch's transaction:
        # when that fails, the clients go with it, and the same Loader's retry must not reuse their IDs.
        records = [record(when=timezone.now(), ip=f"192.0.2.{number}").split("\t") for number in range(1, 4)]
        loader = Loader()
        with (
            mock.patch.object(Loader, "_add_rollup", side_effect=DatabaseError("gone")),
            self.assertRaises(DatabaseError),
        ):
            loader.store(records, source="test", last_sequence=3, offset=0, turn=contextlib.nullcontext())
        loader.store(records, source="test", last_sequence=3, offset=0, turn=contextlib.nullcontext())
        clients = dict(DayClient.objects.values_list("id", "ip_index"))
        self.assertEqual(len(clients), 3)
        self.assertEqual({record.client_id for record in AccessRecord.objects.all()}, set(clients))


def local_line(day: datetime.date, path: str) -> str:
    """A combined-log line at noon of `day` in the site's time zone."""
    return line_at(datetime.datetime.combine(day, datetime.time(12), ZoneInfo(settings.TIME_ZONE)), path)


def line_at(when: datetime.datetime, path: str) -> str:
    return (
        f'203.0.113.9 - - [{when:%d/%b/%Y:%H:%M:%S %z}] "GET {path} HTTP/1.1" 200 512 "-" '
        '"Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"\n'
    )


class IngestCommandTests(TestCase):
    databases = "__all__"

    def test_it_ingests_the_spool_and_resolves_names_later_in_batches_c2(self) -> None:
        directory = self.enterContext(SpoolDirectory())
        writer = spool.SpoolWriter(directory.path)
        writer.write(record(when=timezone.now(), ip="127.0.0.1"))
        writer.close()
        out = io.StringIO()
        call_command("accesslog", "ingest", stdout=out)
        self.assertIn("ingested 1 records", out.getvalue())
        self.assertEqual(rdns.resolve_day(local_today(), timeout=5.0), 1)
        name = ReverseName.objects.get()
        stored = AccessRecord.objects.get()
        self.assertEqual(
            DayKeys().for_reading(stored.day).unseal("domain_name", name.name_sealed, name.ip_index), "localhost"
        )
        self.assertEqual(rdns.resolve_day(local_today()), 0)  # cached for the day


class KeysRotateTests(TestCase):
    """`raksa keys rotate` re-wraps the day keys too: after it, the old master key can go."""

    databases = "__all__"

    def test_it_rewraps_the_day_keys_and_salts_under_the_new_master_key(self) -> None:
        today = local_today()
        yesterday = today - datetime.timedelta(days=1)
        keys = DayKeys()
        sealed = {day: keys.for_writing(day).seal("ip", "203.0.113.7", "index") for day in (yesterday, today)}
        visitor = keys.for_writing(today).visitor("203.0.113.7", "Firefox")
        destroy_salts_before(today)
        new_master = devkeys.generate_keys()["RAKSA_MASTER_KEY"].replace("m", "rotated-m", 1)
        out = io.StringIO()
        with override_settings(RAKSA_MASTER_KEY=new_master, RAKSA_PREVIOUS_MASTER_KEYS=[settings.RAKSA_MASTER_KEY]):
            call_command("keys", "rotate", stdout=out)
        self.assertIn("re-wrapped 2 access-log day keys", out.getvalue())
        new_id = new_master.partition(":")[0]
        self.assertEqual(set(DayKey.objects.using("keystore").values_list("master_key_id", flat=True)), {new_id})
        with override_settings(RAKSA_MASTER_KEY=new_master, RAKSA_PREVIOUS_MASTER_KEYS=[]):
            keys = DayKeys()
            for day, blob in sealed.items():
                self.assertEqual(keys.for_reading(day).unseal("ip", blob, "index"), "203.0.113.7")
            self.assertEqual(keys.for_reading(today).visitor("203.0.113.7", "Firefox"), visitor)
            with self.assertRaises(SaltDestroyedError):
                keys.for_reading(yesterday).visitor("203.0.113.7", "Firefox")


class FollowTests(SimpleTestCase):
    def test_it_keeps_the_ingester_running_while_the_database_does_not_answer_s1(self) -> None:
        # The web servers keep spooling while PostgreSQL restarts: an ingester that ended would leave
        # every record after the restart unread until someone started it again.
        with tempfile.TemporaryDirectory() as var:
            # A spooled record, so that the ingester has something to store and asks the database.
            writer = spool.SpoolWriter(Path(var) / "spool")
            writer.write(record(when=timezone.now()))
            writer.close()
            status, said = production.follower_without_database("accesslog ingest --follow --interval 0.2", Path(var))
        self.assertIsNone(status, said)
        self.assertIn("access-log ingester: OperationalError; trying again in 0.2 s", said)


def _followers_of(parent: int) -> list[int]:
    """The live (not zombie) processes forked from `parent`, from /proc: its children running its own
    command line (another child, a helper program it ran a moment, is not a follower)."""
    found = []
    command = (Path("/proc") / str(parent) / "cmdline").read_bytes()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                # pid (comm) state ppid …: comm may hold spaces, so split after its closing parenthesis.
                state, ppid = (entry / "stat").read_text().rpartition(")")[2].split()[:2]
                forked = (entry / "cmdline").read_bytes() == command
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(ppid) == parent and state != "Z" and forked:
                found.append(int(entry.name))
    return sorted(found)


def _alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def _waited_for(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("not within the time allowed")
        time.sleep(0.1)


def _waited_for_followers(parent: int, count: int) -> list[int]:
    _waited_for(lambda: len(_followers_of(parent)) == count)
    return _followers_of(parent)


class FollowingWorkersTests(SimpleTestCase):
    def test_it_keeps_its_worker_processes_forks_one_that_died_and_takes_them_with_it_c2(self) -> None:
        # Forked anew each round, --workers processes connected and unwrapped the day's key every second.
        with tempfile.TemporaryDirectory() as var:
            writer = spool.SpoolWriter(Path(var) / "spool")
            writer.write(record(when=timezone.now()))  # so that every round asks the (absent) database
            writer.close()
            command = "accesslog ingest --follow --workers 3 --interval 0.2"
            process, log = production.start_without_database(command, Path(var))
            try:
                first = _waited_for_followers(process.pid, 2)
                _waited_for(lambda: log.read_text().count("trying again") >= 6)  # all three, twice
                self.assertEqual(_followers_of(process.pid), first)  # the same processes, round after round
                os.kill(first[0], signal.SIGKILL)
                _waited_for(lambda: "a process ended (exit -9); forking another" in log.read_text())
                second = _waited_for_followers(process.pid, 2)
                self.assertEqual(set(first) - set(second), {first[0]})
            finally:
                process.kill()
                process.wait()
            _waited_for(lambda: not any(_alive(pid) for pid in second))

    def test_it_ends_a_follower_quietly_at_ctrl_c(self) -> None:
        # Ctrl-C at a terminal reaches every process of the group: each follower printed a traceback.
        with tempfile.TemporaryDirectory() as var:
            # As at a terminal: a test run started in the background ignores SIGINT, and so would the
            # ingester it starts (an ignored signal stays ignored across exec; a handled one does not).
            ignoring = signal.signal(signal.SIGINT, signal.default_int_handler)
            try:
                process, log = production.start_without_database(
                    "accesslog ingest --follow --workers 2 --interval 0.2", Path(var)
                )
            finally:
                signal.signal(signal.SIGINT, ignoring)
            try:
                [follower] = _waited_for_followers(process.pid, 1)
                os.kill(follower, signal.SIGINT)
                try:
                    _waited_for(lambda: "a process ended (exit 0); forking another" in log.read_text())
                except AssertionError as error:
                    raise AssertionError(log.read_text()) from error
                self.assertNotIn("Traceback", log.read_text())
            finally:
                process.kill()
                process.wait()


def combined_line(second: int, path: str) -> str:
    return (
        f'203.0.113.{second % 7} - - [21/Nov/2026:02:{second // 60:02d}:{second % 60:02d} +0000] "GET {path} HTTP/1.1" '
        f'200 512 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"\n'
    )


def fail_on_boom(loader: Loader, cursor: object, rollup: Rollup) -> None:
    if any(key == "/th/boom/" for _day, _dimension, key in rollup.counts):
        raise DatabaseError("the database went away")
    ADD_ROLLUP(loader, cursor, rollup)


ADD_ROLLUP = Loader._add_rollup


class ImportInProcessesTests(TransactionTestCase):
    """An import's processes take turns at the database (forked ones where the database allows it:
    not SQLite's in-memory test database, where one process imports): every batch commits with its
    cursor, in the file's order, so a failure anywhere leaves exactly the batches before it."""

    databases = "__all__"

    def setUp(self) -> None:
        self.directory = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.directory, ignore_errors=True)
        patcher = mock.patch("raksa.accesslog.importer.BATCH_SIZE", 40)
        patcher.start()
        self.addCleanup(patcher.stop)
        imported_on(self)

    def write_log(self, *, boom: int = 0, broken: tuple[int, ...] = (), name: str = "access.log") -> Path:
        path = self.directory / name
        with path.open("w") as out:
            for number in range(1, 201):
                if number in broken:
                    out.write("not a log line\n")
                else:
                    out.write(combined_line(number, "/th/boom/" if number == boom else f"/th/p{number}/"))
        return path

    def test_it_imports_each_line_once_and_reports_broken_lines_of_every_process_c2(self) -> None:
        path = self.write_log(broken=(3, 77, 150))
        report = import_logs([path], workers=3)
        self.assertEqual((report.lines, report.imported, report.skipped, report.broken), (200, 197, 0, 3))
        self.assertEqual(report.broken_lines, [("access.log", 3), ("access.log", 77), ("access.log", 150)])
        self.assertEqual(AccessRecord.objects.count(), 197)
        self.assertEqual(AccessRecord.objects.values("path").distinct().count(), 197)
        self.assertEqual(DailyTotal.objects.get().views, 197)
        again = import_logs([path], workers=3)
        self.assertEqual((again.lines, again.imported, again.skipped), (200, 0, 200))
        self.assertEqual(AccessRecord.objects.count(), 197)

    def test_it_lists_broken_lines_by_file_in_the_order_imported_then_by_number_c2(self) -> None:
        first, second = self.write_log(broken=(50, 5), name="z.log"), self.write_log(broken=(3,), name="a.log")
        report = import_logs([first, second], workers=2)
        self.assertEqual(report.broken_lines, [("z.log", 5), ("z.log", 50), ("a.log", 3)])
        self.assertEqual((report.lines, report.imported, report.broken), (400, 397, 3))

    def test_it_imports_a_file_of_one_batch_in_one_process_c2(self) -> None:
        path = self.directory / "small.log"
        path.write_text("".join(combined_line(number, f"/th/p{number}/") for number in range(1, 11)))
        with mock.patch("raksa.accesslog.importer._import_in_processes") as forked:
            report = import_logs([path], workers=2)
        forked.assert_not_called()
        self.assertEqual((report.lines, report.imported), (10, 10))

    def test_it_shares_a_gzip_log_between_processes_c2(self) -> None:
        path = self.write_log(broken=(41,))
        packed = path.with_suffix(".log.gz")
        packed.write_bytes(gzip.compress(path.read_bytes()))
        report = import_logs([packed], workers=2)
        self.assertEqual((report.lines, report.imported, report.broken_lines), (200, 199, [("access.log.gz", 41)]))
        self.assertEqual(AccessRecord.objects.values("path").distinct().count(), 199)

    def replays_exactly_after_a_failure_at(self, line: int) -> None:
        path = self.write_log(boom=line)
        with mock.patch.object(Loader, "_add_rollup", fail_on_boom), self.assertRaises(DatabaseError):
            import_logs([path], workers=2)
        # The batches before the failed one (40 lines each), none after it, though the other process
        # had made its next batch.
        kept = (line - 1) // 40 * 40
        self.assertEqual(AccessRecord.objects.count(), kept)
        self.assertEqual(DailyTotal.objects.get().views, kept)
        self.assertEqual(SpoolCursor.objects.get().last_sequence, kept)
        report = import_logs([path], workers=2)
        self.assertEqual((report.imported, report.skipped), (200 - kept, kept))
        self.assertEqual(AccessRecord.objects.count(), 200)
        self.assertEqual(AccessRecord.objects.values("path").distinct().count(), 200)
        self.assertEqual(DailyTotal.objects.get().views, 200)

    def test_it_replays_exactly_after_the_first_process_failed_c2(self) -> None:
        self.replays_exactly_after_a_failure_at(90)  # the third batch: the first process's

    def test_it_raises_a_forked_process_failure_and_replays_exactly_c2(self) -> None:
        self.replays_exactly_after_a_failure_at(130)  # the fourth batch: the second process's


@contextmanager
def sqlite_files(directory: Path) -> Iterator[None]:
    """The test's main database and key store as SQLite files (copies of the in-memory test databases,
    which other processes cannot reach): an import over them forks. The in-memory connections are
    set aside meanwhile, not closed (closing one would destroy its database), then put back."""
    saved = {}
    for alias in ("default", "keystore"):
        wrapper = connections[alias]
        wrapper.ensure_connection()
        path = directory / f"{alias}.sqlite3"
        with closing(sqlite3.connect(path)) as target:
            wrapper.connection.backup(target)
            # As a deployed file is: switching a copy to WAL takes an exclusive lock, which the first
            # connection of each process would otherwise race for (and lose at once: "database is locked").
            target.execute("PRAGMA journal_mode=WAL")
        saved[alias] = (wrapper.settings_dict["NAME"], wrapper.connection)
        wrapper.connection = None
        wrapper.settings_dict["NAME"] = str(path)
    try:
        yield
    finally:
        for alias, (name, memory) in saved.items():
            wrapper = connections[alias]
            wrapper.close()
            wrapper.settings_dict["NAME"] = name
            wrapper.connection = memory


class ImportInProcessesOverSqliteFilesTests(ImportInProcessesTests):
    """The same on SQLite files, where two processes import by default: the suite's SQLite databases
    live in memory, where one process imports, so the tests above take the forked path on PostgreSQL
    only."""

    def setUp(self) -> None:
        if connection.vendor != "sqlite":
            self.skipTest("SQLite's half: ImportInProcessesTests forks on PostgreSQL already")
        super().setUp()
        self.enterContext(sqlite_files(self.directory))
        self.assertTrue(can_fork())

    def test_it_stores_batches_from_two_processes(self) -> None:
        # Or the tests above would not take the forked path here.
        stored_by = self.directory / "stored-by"
        store = Loader.store

        def noted(loader: Loader, *args: Any, **kwargs: Any) -> int:
            with stored_by.open("a") as out:
                out.write(f"{os.getpid()}\n")
            return store(loader, *args, **kwargs)

        with mock.patch.object(Loader, "store", noted):
            report = import_logs([self.write_log()], workers=2)
        self.assertEqual(report.imported, 200)
        self.assertEqual(len(set(stored_by.read_text().split())), 2)
