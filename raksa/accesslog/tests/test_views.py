import datetime

from django.test import TestCase, override_settings
from django.utils import timezone

from raksa.accesslog import actions, stats
from raksa.accesslog.actions import COMPACT_KEEP
from raksa.accesslog.daykeys import days_not_closed
from raksa.accesslog.models import DailyCount, Dimension
from raksa.accesslog.tests.helpers import IPHONE, SpoolDirectory, record, spool_and_ingest, staff
from raksa.audit.models import AuditEntry
from raksa.testing import accounts as personas


class DashboardTests(TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        self.spool = self.enterContext(SpoolDirectory())
        now = timezone.now()
        spool_and_ingest(
            self.spool.path,
            [record(when=now, path="/th/news/"), record(when=now, ip="192.0.2.9", agent=IPHONE, path="=cmd()")],
        )

    def test_it_shows_statistics_to_the_dpo_in_thai_and_english_p1(self) -> None:
        personas.sign_in_with_second_factor(self.client, staff("dpo.stats", "dpo"))
        thai = self.client.get("/th/staff/statistics/")
        self.assertContains(thai, "สถิติการใช้งาน")
        self.assertContains(thai, '<polyline class="views"')
        self.assertContains(thai, "เก็บไว้เฉพาะ 100 รายการ")  # what is approximate, said on the page
        self.assertContains(thai, "วันที่ยังไม่ปิด (วันนี้) แสดงเฉพาะ 100 รายการ")
        self.assertContains(thai, "/th/news/")
        english = self.client.get("/en/staff/statistics/")
        self.assertContains(english, "Usage statistics")
        self.assertContains(english, "Mobile Safari")
        self.assertContains(english, "keep only the 100 most viewed of each day and each week")
        self.assertContains(english, "A day not closed yet (today) shows only its 100 most viewed values")
        self.assertNotContains(english, "192.0.2.9")
        self.assertNotIn("style=", english.content.decode())  # the CSP allows no inline style

    def test_it_counts_only_the_largest_values_of_a_day_still_open_p1(self) -> None:
        # Today holds a network per visitor until it is closed and compacted; the dashboard reads at most
        # as many of its values as a closed day keeps, so a busy day costs it no more than a quiet one.
        today = timezone.localdate()
        DailyCount.objects.bulk_create(
            DailyCount(day=today, dimension=Dimension.NETWORK, key=f"10.0.{n}.0/24", views=1_000 - n)
            for n in range(COMPACT_KEEP + 50)
        )
        self.assertEqual(days_not_closed(today, today), [today])
        kept = stats._top(Dimension.NETWORK, stats.Parts(weeks=[], closed=[], still_open=[today]), limit=1_000)
        self.assertEqual(len(kept), COMPACT_KEEP + 1)
        self.assertEqual(kept[0], ("10.0.0.0/24", 1_000))
        self.assertEqual(stats.statistics(today, today).tops[Dimension.NETWORK][0].label, "10.0.0.0/24")

    def test_it_reads_finished_weeks_from_their_roll_up_and_stale_ones_day_by_day_p1(self) -> None:
        today = timezone.localdate()
        monday = today - datetime.timedelta(days=today.weekday() + 14)  # two weeks back, both over
        moments = [
            timezone.make_aware(datetime.datetime.combine(monday + datetime.timedelta(days=n), datetime.time(9)))
            for n in range(14)
        ]
        spool_and_ingest(
            self.spool.path, [record(when=moment, path=f"/th/day{n % 3}/") for n, moment in enumerate(moments)]
        )
        actions.destroy_past_salts()
        start, end = monday - datetime.timedelta(days=2), today
        parts = stats._parts(stats.statistics(start, end).days, days_not_closed(start, end))
        self.assertEqual(parts.weeks, [monday, monday + datetime.timedelta(days=7)])
        self.assertEqual(len(parts.closed), 2 + today.weekday())
        pages = {bar.label: bar.views for bar in stats.statistics(start, end).tops[Dimension.PAGE]}
        self.assertEqual(pages, {"/th/day0/": 5, "/th/day1/": 5, "/th/day2/": 4, "/th/news/": 1, "=cmd()": 1})
        # A late record of a rolled-up week: that week is read day by day until it is made again.
        spool_and_ingest(self.spool.path, [record(when=moments[0], path="/th/late/")])
        parts = stats._parts(stats.statistics(start, end).days, days_not_closed(start, end))
        self.assertEqual(parts.weeks, [monday + datetime.timedelta(days=7)])
        pages = {bar.label: bar.views for bar in stats.statistics(start, end).tops[Dimension.PAGE]}
        self.assertEqual(pages["/th/late/"], 1)
        self.assertEqual(sum(pages.values()), 17)

    def test_it_downloads_the_statistics_as_csv_p1(self) -> None:
        personas.sign_in_with_second_factor(self.client, staff("auditor.stats", "auditor"))
        today = timezone.localdate()
        response = self.client.get(f"/en/staff/statistics/?start={today}&end={today}&format=csv")
        self.assertEqual(response["Content-Type"], "text/csv; charset=utf-8")
        body = response.content.decode()
        self.assertIn(f"{today},2,2", body)
        self.assertIn("'=cmd()", body)  # a formula is never handed to a spreadsheet

    def test_it_hides_the_dashboard_from_everyone_else(self) -> None:
        self.assertEqual(self.client.get("/th/staff/statistics/").status_code, 404)
        personas.sign_in_with_second_factor(self.client, staff("officer.stats", "officer"))
        self.assertEqual(self.client.get("/th/staff/statistics/").status_code, 404)


class InvestigationViewTests(TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        self.spool = self.enterContext(SpoolDirectory())
        self.moment = timezone.now().replace(microsecond=0)
        spool_and_ingest(self.spool.path, [record(when=self.moment, ip="198.51.100.4", path="/th/services/")])
        self.form = {
            "purpose": "incident_investigation",
            "case_reference": "INC-2026-9",
            "starts_at": _local(self.moment - datetime.timedelta(hours=1)),
            "ends_at": _local(self.moment + datetime.timedelta(hours=1)),
            "ip": "198.51.100.4",
        }

    def test_it_lets_an_investigator_search_by_ip_with_a_stated_purpose_p2(self) -> None:
        personas.sign_in_with_second_factor(self.client, staff("investigator.view", "investigator"))
        self.assertNotContains(self.client.get("/en/staff/statistics/investigate/"), "198.51.100.4")
        response = self.client.post("/en/staff/statistics/investigate/", self.form)
        self.assertContains(response, "198.51.100.4")
        self.assertContains(response, "/th/services/")
        entry = AuditEntry.objects.get(action="accesslog.search")
        self.assertEqual((entry.purpose, entry.object_id), ("incident_investigation", "INC-2026-9"))

    def test_it_searches_every_day_raw_records_are_kept_in_one_search_p2(self) -> None:
        personas.sign_in_with_second_factor(self.client, staff("investigator.range", "investigator"))
        ends_at = self.moment + datetime.timedelta(hours=1)
        for raw_days in (90, 120):
            with self.subTest(raw_days=raw_days), override_settings(RAKSA_ACCESSLOG_RAW_DAYS=raw_days):
                kept = ends_at - datetime.timedelta(days=raw_days + 1)  # the retention's days and today
                found = self.client.post("/en/staff/statistics/investigate/", self.form | {"starts_at": _local(kept)})
                self.assertContains(found, "/th/services/")
                self.assertContains(found, f"kept past their {raw_days} days until the hold is released")
                refused = self.client.post(
                    "/en/staff/statistics/investigate/",
                    self.form | {"starts_at": _local(kept - datetime.timedelta(minutes=1))},
                )
                self.assertContains(refused, f"Search at most {raw_days + 1} days at a time")
        self.assertEqual(AuditEntry.objects.filter(action="accesslog.search").count(), 2)  # the refused: none

    def test_it_places_a_legal_hold_from_the_investigation_page_p2(self) -> None:
        personas.sign_in_with_second_factor(self.client, staff("investigator.hold", "investigator"))
        hold = {f"hold-{name}": self.form[name] for name in ("starts_at", "ends_at", "case_reference")}
        response = self.client.post("/th/staff/statistics/holds/", hold, follow=True)
        self.assertContains(response, "INC-2026-9")
        self.assertTrue(AuditEntry.objects.filter(action="accesslog.hold_placed").exists())

    def test_it_hides_raw_records_from_other_staff_p2(self) -> None:
        personas.sign_in_with_second_factor(self.client, staff("dpo.view", "dpo"))
        self.assertEqual(self.client.post("/en/staff/statistics/investigate/", self.form).status_code, 404)
        self.assertFalse(AuditEntry.objects.filter(action="accesslog.search").exists())


def _local(moment: datetime.datetime) -> str:
    """A time as the form's datetime-local box sends it."""
    return moment.astimezone().strftime("%Y-%m-%dT%H:%M")
