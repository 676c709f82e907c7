import datetime

from django.test import TestCase
from django.utils import timezone

from raksa.accesslog import stats
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
        self.assertContains(thai, "/th/news/")
        english = self.client.get("/en/staff/statistics/")
        self.assertContains(english, "Usage statistics")
        self.assertContains(english, "Mobile Safari")
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
        kept = stats._top(Dimension.NETWORK, today, today, [today], limit=1_000)
        self.assertEqual(len(kept), COMPACT_KEEP + 1)
        self.assertEqual(kept[0], ("10.0.0.0/24", 1_000))
        self.assertEqual(stats.statistics(today, today).tops[Dimension.NETWORK][0].label, "10.0.0.0/24")

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
            "starts_at": (self.moment - datetime.timedelta(hours=1)).astimezone().strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (self.moment + datetime.timedelta(hours=1)).astimezone().strftime("%Y-%m-%dT%H:%M"),
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
