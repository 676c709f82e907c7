"""The DPO's legal-holds page: access-checked, audited, refusing bad input field by field in both languages."""

import datetime

from django.test import TestCase
from django.utils import timezone

from raksa.audit.models import AuditEntry
from raksa.organisations.models import StaffRole
from raksa.retention.models import LegalHold
from raksa.services.tests import builders

HOLDS_TH = "/th/dpo/legal-holds/"
HOLDS_EN = "/en/dpo/legal-holds/"


class HoldPageTests(TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        self.minburi = builders.agency()
        self.dpo = builders.officer("dpo.minburi", self.minburi, role=StaffRole.DPO)
        self.service = builders.certificate(self.minburi, fields=("name",))
        self.person = builders.citizen()
        builders.log_in_staff(self.client, self.dpo)

    def valid(self, **changes: object) -> dict:
        return {
            "reason": "คำสั่งศาลปกครอง ที่ 45/2569",
            "ends_on": (timezone.localdate() + datetime.timedelta(days=90)).isoformat(),
            "subject_id": str(self.person.subject_id),
        } | changes

    def test_it_places_a_hold_owned_by_the_dpo_and_audits_it(self) -> None:
        response = self.client.post(HOLDS_TH, self.valid(service=str(self.service.pk)))
        self.assertRedirects(response, HOLDS_TH)
        hold = LegalHold.objects.get()
        self.assertEqual(
            (hold.owner_id, hold.agency_id, hold.service_id), (self.dpo.user_id, self.minburi.pk, self.service.pk)
        )
        self.assertTrue(
            AuditEntry.objects.filter(
                action="retention.hold_placed", object_id=str(hold.pk), actor_id=self.dpo.user_id
            ).exists()
        )
        page = self.client.get(HOLDS_TH)
        self.assertContains(page, "คำสั่งศาลปกครอง ที่ 45/2569")

    def test_it_ends_a_hold_and_audits_it(self) -> None:
        self.client.post(HOLDS_EN, self.valid())
        hold = LegalHold.objects.get()
        response = self.client.post(f"/en/dpo/legal-holds/{hold.pk}/end/")
        self.assertRedirects(response, HOLDS_EN)
        hold.refresh_from_db()
        self.assertIsNotNone(hold.ended_at)
        self.assertEqual(hold.ended_by_id, self.dpo.user_id)
        self.assertTrue(AuditEntry.objects.filter(action="retention.hold_ended", object_id=str(hold.pk)).exists())

    def test_it_refuses_a_hold_without_reason_or_end_date_in_thai_and_english(self) -> None:
        for url, reason_message, end_message in (
            (HOLDS_EN, "Say why the records must be kept.", "Give the date the hold ends."),
            (HOLDS_TH, "โปรดระบุเหตุผลที่ต้องเก็บรักษาข้อมูลไว้", "โปรดระบุวันที่การระงับการลบสิ้นสุด"),
        ):
            response = self.client.post(url, self.valid(reason="  ", ends_on=""))
            self.assertContains(response, reason_message, status_code=400)
            self.assertContains(response, end_message, status_code=400)
        self.assertFalse(LegalHold.objects.exists())

    def test_it_refuses_a_hold_that_covers_nothing_or_a_past_end_date(self) -> None:
        response = self.client.post(HOLDS_EN, self.valid(subject_id=""))
        self.assertContains(response, "Say what the hold covers", status_code=400)
        yesterday = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
        response = self.client.post(HOLDS_EN, self.valid(ends_on=yesterday))
        self.assertContains(response, "The end date cannot be in the past.", status_code=400)
        response = self.client.post(HOLDS_EN, self.valid(covers_from="2026-01-01"))
        self.assertContains(response, "Give both ends of the time range.", status_code=400)
        self.assertFalse(LegalHold.objects.exists())

    def test_only_the_agencys_dpo_reaches_its_holds(self) -> None:
        self.client.post(HOLDS_EN, self.valid())
        hold = LegalHold.objects.get()
        other = builders.officer("dpo.other", builders.agency("lat-krabang"), role=StaffRole.DPO)
        builders.log_in_staff(self.client, other)
        self.assertEqual(self.client.post(f"/en/dpo/legal-holds/{hold.pk}/end/").status_code, 404)
        self.assertNotContains(self.client.get(HOLDS_EN), hold.reason)
        officer = builders.officer("officer.minburi", self.minburi)
        builders.log_in_staff(self.client, officer)
        self.assertEqual(self.client.get(HOLDS_EN).status_code, 404)
        hold.refresh_from_db()
        self.assertIsNone(hold.ended_at)
