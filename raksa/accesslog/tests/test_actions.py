import datetime
import io
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connections
from django.test import TestCase, override_settings
from django.test.utils import CaptureQueriesContext

from raksa.accesslog import actions
from raksa.accesslog.daykeys import KEYSTORE, DayKeys, DayShreddedError, days_with_keys, destroy_day_key
from raksa.accesslog.models import AccessRecord, DailyTotal, DayClient
from raksa.accesslog.tests.helpers import IPHONE, SpoolDirectory, record, spool_and_ingest, staff
from raksa.audit.models import AuditEntry
from raksa.consent.policies import processing_for, retention_text
from raksa.retention import engine
from raksa.retention.actions import run_retention

BANGKOK = datetime.timezone(datetime.timedelta(hours=7))
DAY_ONE = datetime.datetime(2026, 8, 1, 10, 0, tzinfo=BANGKOK)


class RetentionTests(TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        self.spool = self.enterContext(SpoolDirectory())
        spool_and_ingest(
            self.spool.path,
            [record(when=DAY_ONE + datetime.timedelta(days=offset)) for offset in range(3)],
        )
        self.investigator = staff("investigator.retention", "investigator")

    def test_it_keeps_raw_records_exactly_90_days_then_shreds_the_day_p2(self) -> None:
        ninety_days_later = DAY_ONE + datetime.timedelta(days=90)
        self.assertEqual(actions.purge_expired_days(now=ninety_days_later).purged, [])
        report = actions.purge_expired_days(now=ninety_days_later + datetime.timedelta(days=1))
        self.assertEqual(report.purged, [datetime.date(2026, 8, 1)])
        self.assertEqual(AccessRecord.objects.count(), 2)
        # The day's clients (its sealed IPs and browser strings) leave with it; the other days' stay.
        self.assertEqual(
            sorted(DayClient.objects.values_list("day", flat=True)),
            [datetime.date(2026, 8, 2), datetime.date(2026, 8, 3)],
        )
        self.assertNotIn(datetime.date(2026, 8, 1), days_with_keys())
        with self.assertRaises(DayShreddedError):
            DayKeys().for_reading(datetime.date(2026, 8, 1))
        self.assertTrue(AuditEntry.objects.filter(action="accesslog.day_purged", object_id="20260801").exists())
        # Statistics outlive the raw records: they hold no IP.
        self.assertEqual(DailyTotal.objects.count(), 3)

    def test_it_keeps_days_under_a_legal_hold_and_audits_the_hold_p2(self) -> None:
        hold = actions.place_legal_hold(
            actor=self.investigator,
            role="investigator",
            agency_id=None,
            starts_at=DAY_ONE + datetime.timedelta(days=1, hours=2),
            ends_at=DAY_ONE + datetime.timedelta(days=1, hours=3),
            case_reference="INC-2026-041",
        )
        later = DAY_ONE + datetime.timedelta(days=120)
        report = actions.purge_expired_days(now=later)
        self.assertEqual(report.purged, [datetime.date(2026, 8, 1), datetime.date(2026, 8, 3)])
        self.assertEqual(report.held, [datetime.date(2026, 8, 2)])
        self.assertEqual(list(AccessRecord.objects.values_list("day", flat=True)), [datetime.date(2026, 8, 2)])
        placed = AuditEntry.objects.get(action="accesslog.hold_placed")
        self.assertEqual((placed.object_id, placed.actor_id), (str(hold.pk), self.investigator.pk))

        actions.release_legal_hold(hold=hold, actor=self.investigator, role="investigator", agency_id=None)
        self.assertEqual(actions.purge_expired_days(now=later).purged, [datetime.date(2026, 8, 2)])
        self.assertFalse(AccessRecord.objects.exists())
        self.assertTrue(AuditEntry.objects.filter(action="accesslog.hold_released").exists())

    def test_the_retention_plan_shows_by_day_what_the_purge_ends_and_what_holds_keep_p2(self) -> None:
        actions.place_legal_hold(
            actor=self.investigator,
            role="investigator",
            agency_id=None,
            starts_at=DAY_ONE + datetime.timedelta(days=1, hours=2),
            ends_at=DAY_ONE + datetime.timedelta(days=1, hours=3),
            case_reference="INC-2026-042",
        )
        later = DAY_ONE + datetime.timedelta(days=120)
        (plan,) = engine.plan(now=later, only=["accesslog.accessrecord"])
        self.assertEqual(plan.by_day, {datetime.date(2026, 8, 1): 1, datetime.date(2026, 8, 3): 1})
        self.assertEqual([count for _hold, count in plan.own_held], [1])
        self.assertEqual(plan.period.length, datetime.timedelta(days=90))
        self.assertEqual(run_retention(now=later, only=["accesslog.accessrecord"]), [])  # the purge's own
        self.assertEqual(AccessRecord.objects.count(), 3)
        self.assertEqual(len(actions.purge_expired_days(now=later).purged), plan.total)
        out = io.StringIO()
        call_command("retention", "plan", "--rule", "accesslog.accessrecord", stdout=out)
        self.assertIn("ended by `raksa accesslog purge`", out.getvalue())

    def test_the_plan_counts_each_days_clients_as_the_purge_ends_them_with_their_records_p2(self) -> None:
        later = DAY_ONE + datetime.timedelta(days=120)
        (plan,) = engine.plan(now=later, only=["accesslog.dayclient"])
        self.assertEqual(plan.total, DayClient.objects.count())
        actions.purge_expired_days(now=later)
        self.assertFalse(DayClient.objects.exists())

    @override_settings(RAKSA_ACCESSLOG_RAW_DAYS=180)
    def test_the_policy_gives_every_access_log_field_the_configured_period_c1(self) -> None:
        # The sealed IP and browser string live in the day's clients: they read the registry's 90 days.
        texts = {
            (item.activity, item.category): retention_text(item, "en")
            for item in processing_for(None)
            if item.activity.startswith("accesslog.")
        }
        self.assertIn(("accesslog.dayclient", "ip_address"), texts)
        for where, text in texts.items():
            self.assertIn("180 days", text, where)

    @override_settings(RAKSA_ACCESSLOG_RAW_DAYS=30)
    def test_it_refuses_to_purge_before_90_days_p2(self) -> None:
        with self.assertRaises(ImproperlyConfigured):
            actions.purge_expired_days(now=DAY_ONE + datetime.timedelta(days=60))
        self.assertEqual(AccessRecord.objects.count(), 3)

    def test_it_refuses_a_retention_below_90_days_in_the_settings_p2(self) -> None:
        env = {**os.environ, "RAKSA_ACCESSLOG_RAW_DAYS": "89"}
        result = subprocess.run(
            [str(Path(sys.executable).with_name("raksa")), "check"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("RAKSA_ACCESSLOG_RAW_DAYS must be at least 90", result.stderr)


class SearchTests(TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        self.spool = self.enterContext(SpoolDirectory())
        self.investigator = staff("investigator.search", "investigator")
        spool_and_ingest(
            self.spool.path,
            [
                record(when=DAY_ONE, ip="198.51.100.4", path="/th/services/"),
                record(when=DAY_ONE + datetime.timedelta(minutes=1), ip="198.51.100.4", path="/th/news/"),
                record(when=DAY_ONE + datetime.timedelta(minutes=2), ip="192.0.2.50", path="/th/services/"),
                record(when=DAY_ONE + datetime.timedelta(days=1), ip="198.51.100.4", path="/th/"),
            ],
        )

    def search(self, **criteria: object) -> list[actions.Found]:
        return actions.search_records(
            actor=self.investigator,
            role="investigator",
            agency_id=None,
            purpose="security_incident",
            case_reference="INC-7",
            starts_at=DAY_ONE - datetime.timedelta(hours=1),
            ends_at=DAY_ONE + datetime.timedelta(days=2),
            **criteria,  # type: ignore[arg-type]
        )

    def test_it_finds_records_by_ip_across_days_and_audits_the_search_p2(self) -> None:
        found = self.search(ip="198.51.100.4")
        self.assertEqual([f.path for f in found], ["/th/services/", "/th/news/", "/th/"])
        self.assertEqual(found[0].ip, "198.51.100.4")
        self.assertEqual(found[0].next_path, "/th/news/")
        entry = AuditEntry.objects.get(action="accesslog.search")
        self.assertEqual((entry.purpose, entry.object_id, entry.role), ("security_incident", "INC-7", "investigator"))
        self.assertIn("ip", entry.fields)
        self.assertNotIn("198.51.100.4", repr(entry.__dict__))

    def test_it_stops_an_ip_search_at_its_limit_with_the_earliest_records_p2(self) -> None:
        # The IP is searched a day at a time: the limit must keep the earliest, not one per day.
        with mock.patch.object(actions, "SEARCH_LIMIT", 2):
            found = self.search(ip="198.51.100.4", path_prefix="/th/")
        self.assertEqual([f.path for f in found], ["/th/services/", "/th/news/"])

    def test_it_finds_records_by_path_prefix_and_refuses_an_unknown_purpose_p2(self) -> None:
        self.assertEqual(len(self.search(path_prefix="/th/services/")), 2)
        with self.assertRaises(ValueError):
            actions.search_records(
                actor=self.investigator,
                role="investigator",
                agency_id=None,
                purpose="marketing",
                case_reference="X",
                starts_at=DAY_ONE,
                ends_at=DAY_ONE + datetime.timedelta(days=1),
            )
        self.assertEqual(AuditEntry.objects.filter(action="accesslog.search").count(), 1)

    def test_it_gives_each_record_its_visitors_next_page_that_day_a_strictly_later_one_p2(self) -> None:
        # Two requests of the same millisecond: neither is the other's next page.
        same_moment = DAY_ONE + datetime.timedelta(minutes=3)
        spool_and_ingest(
            self.spool.path,
            [
                record(when=same_moment, ip="198.51.100.4", path="/th/a/"),
                record(when=same_moment, ip="198.51.100.4", path="/th/b/"),
                record(when=same_moment + datetime.timedelta(seconds=1), ip="198.51.100.4", path="/th/c/"),
            ],
        )
        found = self.search(ip="198.51.100.4")
        paths = [(f.path, f.next_path) for f in found]
        self.assertEqual(paths[0], ("/th/services/", "/th/news/"))
        self.assertEqual(paths[1][0], "/th/news/")
        self.assertIn(paths[1][1], {"/th/a/", "/th/b/"})  # which of two at once comes first is not known
        self.assertEqual(paths[2:], [("/th/a/", "/th/c/"), ("/th/b/", "/th/c/"), ("/th/c/", ""), ("/th/", "")])
        # Another visitor's later page, or the same IP's the next day, is not a next page.
        self.assertEqual([f.next_path for f in self.search(ip="192.0.2.50")], [""])

    def test_it_finds_an_ips_records_under_each_of_its_browsers_with_each_browsers_own_next_page_p2(self) -> None:
        # One address, two browsers: two clients of the day with one IP index.
        spool_and_ingest(
            self.spool.path,
            [
                record(when=DAY_ONE + datetime.timedelta(seconds=30), ip="198.51.100.4", agent=IPHONE, path="/th/m/"),
                record(when=DAY_ONE + datetime.timedelta(minutes=5), ip="198.51.100.4", agent=IPHONE, path="/th/n/"),
            ],
        )
        index = DayKeys().for_reading(DAY_ONE.date()).ip_index("198.51.100.4")
        self.assertEqual(DayClient.objects.filter(day=DAY_ONE.date(), ip_index=index).count(), 2)
        found = [(f.path, f.user_agent == IPHONE, f.next_path) for f in self.search(ip="198.51.100.4")]
        self.assertEqual(
            found,
            [
                ("/th/services/", False, "/th/news/"),
                ("/th/m/", True, "/th/n/"),
                ("/th/news/", False, ""),
                ("/th/n/", True, ""),
                ("/th/", False, ""),
            ],
        )

    def test_it_skips_the_records_of_a_shredded_day_p2(self) -> None:
        destroy_day_key((DAY_ONE + datetime.timedelta(days=1)).date())
        self.assertEqual(
            [f.path for f in self.search(path_prefix="/th/")], ["/th/services/", "/th/news/", "/th/services/"]
        )
        self.assertEqual([f.path for f in self.search(ip="198.51.100.4")], ["/th/services/", "/th/news/"])

    def test_it_searches_in_queries_that_do_not_grow_with_the_records_found_p2(self) -> None:
        # The next pages in one query, every day key in one key-store query: searching more records
        # over the same days costs no more queries.
        def queries(**criteria: object) -> tuple[int, int, int]:
            with (
                CaptureQueriesContext(connections["default"]) as data,
                CaptureQueriesContext(connections[KEYSTORE]) as keys,
            ):
                found = self.search(**criteria)
            return len(found), len(data.captured_queries), len(keys.captured_queries)

        few = {"path": queries(path_prefix="/th/"), "ip": queries(ip="198.51.100.4")}
        spool_and_ingest(
            self.spool.path,
            [
                record(
                    when=DAY_ONE + datetime.timedelta(days=day, minutes=10 + n),
                    ip=f"198.51.100.{4 + n % 2}",
                    path="/th/x/",
                )
                for day in range(2)
                for n in range(20)
            ],
        )
        many = {"path": queries(path_prefix="/th/"), "ip": queries(ip="198.51.100.4")}
        self.assertEqual((few["path"][0], many["path"][0]), (4, 44))
        self.assertEqual((few["ip"][0], many["ip"][0]), (3, 23))
        for kind in ("path", "ip"):
            self.assertEqual(few[kind][1:], many[kind][1:], kind)
            self.assertEqual(many[kind][2], 1, kind)  # every day key at once
