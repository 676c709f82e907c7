from django.db import connection
from django.test import TestCase

from raksa.accounts.models import User
from raksa.audit.models import AuditEntry
from raksa.consent import actions, tasks
from raksa.consent.models import Inquiry, InquiryStatus
from raksa.consent.tests.smtp import RealSmtp
from raksa.core import demo
from raksa.organisations.models import Agency, StaffMembership, StaffRole
from raksa.subjects.models import Subject

MESSAGE = "ขอทราบว่าเขตเก็บข้อมูลอะไรของดิฉันไว้บ้าง"


class InquiryTests(RealSmtp, TestCase):
    databases = "__all__"
    minburi: Agency
    dpo: User

    @classmethod
    def setUpTestData(cls) -> None:
        cls.minburi = demo.load_organisations()[1]
        cls.dpo = User.objects.create_user("dpo.t", "pw-dpo-12345", subject=Subject.objects.create(), is_staff=True)
        StaffMembership.objects.create(user=cls.dpo, agency=cls.minburi, role=StaffRole.DPO)

    def submit(self) -> Inquiry:
        with self.captureOnCommitCallbacks(execute=False):
            response = self.client.post(
                "/th/contact/dpo/",
                {
                    "agency": "minburi",
                    "kind": "question",
                    "name": "มาลี ใจดี",
                    "email": "malee@example.org",
                    "message": MESSAGE,
                },
            )
        inquiry = Inquiry.objects.get()
        self.assertContains(response, inquiry.reference)
        return inquiry

    def test_it_gives_a_reference_number_and_seals_the_message_v2(self) -> None:
        inquiry = self.submit()
        self.assertRegex(inquiry.reference, r"^DPO-25\d\d-[A-Z0-9]{6}$")
        with connection.cursor() as cursor:
            cursor.execute("SELECT name, email, message FROM consent_inquiry")
            raw = b"".join(bytes(value) for value in cursor.fetchone())
        for plain in ("มาลี", "malee@example.org", MESSAGE):
            self.assertNotIn(plain.encode(), raw)
        self.assertTrue(AuditEntry.objects.filter(action="consent.inquiry_received", object_id=str(inquiry.pk)))

    def test_it_mails_the_reference_to_the_sender_v2(self) -> None:
        inquiry = self.submit()
        self.assertTrue(tasks.send_inquiry_receipt.call(inquiry_id=str(inquiry.pk), language="th"))
        [receipt] = self.mailbox.received(to="malee@example.org")
        self.assertIn(inquiry.reference, receipt["Subject"])
        self.assertNotIn(MESSAGE, receipt.get_content(), "the message itself is not echoed by mail")

    def test_it_tracks_the_inquiry_in_the_dpos_queue_only_v2(self) -> None:
        inquiry = self.submit()
        self.client.force_login(self.dpo)
        queue = self.client.get("/th/dpo/inquiries/")
        self.assertContains(queue, inquiry.reference)
        self.assertNotContains(queue, "มาลี")
        other = User.objects.create_user("dpo.o", "pw-dpo-12345", subject=Subject.objects.create(), is_staff=True)
        StaffMembership.objects.create(user=other, agency=Agency.objects.get(slug="most-ops"), role=StaffRole.DPO)
        self.client.force_login(other)
        self.assertNotContains(self.client.get("/th/dpo/inquiries/"), inquiry.reference)
        citizen = User.objects.create_user("c", "pw-c-12345678", subject=Subject.objects.create())
        self.client.force_login(citizen)
        self.assertEqual(self.client.get("/th/dpo/inquiries/").status_code, 404)

    def test_it_answers_by_email_and_closes_the_inquiry_v2(self) -> None:
        inquiry = self.submit()
        actions.answer_inquiry(inquiry=inquiry, answer="เขตเก็บเฉพาะชื่อและอีเมลของท่าน", actor=self.dpo, language="th")
        inquiry.refresh_from_db()
        self.assertEqual(inquiry.status, InquiryStatus.ANSWERED)
        [answer] = self.mailbox.received(to="malee@example.org")
        self.assertIn("เขตเก็บเฉพาะชื่อและอีเมลของท่าน", answer.get_content())
        self.assertIn(inquiry.reference, answer["Subject"])
        self.assertTrue(AuditEntry.objects.filter(action="consent.inquiry_answered", actor_id=self.dpo.pk))
        with self.assertRaises(ValueError):
            actions.answer_inquiry(inquiry=inquiry, answer="again", actor=self.dpo, language="th")

    def test_it_preselects_the_agency_the_policy_links_from_v2(self) -> None:
        page = self.client.get("/th/contact/dpo/", {"agency": "minburi"})
        self.assertContains(page, '<option value="minburi" selected>')

    def test_it_explains_field_errors_in_the_persons_language_v2(self) -> None:
        response = self.client.post("/en/contact/dpo/", {"agency": "minburi", "email": "not-an-address"})
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "Enter a valid email address.", status_code=400)
        self.assertFalse(Inquiry.objects.exists())
