from datetime import timedelta

from django.db import connection
from django.test import TestCase
from django.utils import timezone

from raksa.accounts.models import User
from raksa.audit.models import AuditEntry
from raksa.consent import actions, tasks
from raksa.consent.models import Inquiry, InquiryStatus
from raksa.consent.tests.smtp import RealSmtp
from raksa.core import demo
from raksa.organisations.models import Agency, StaffMembership, StaffRole
from raksa.subjects.models import Subject
from raksa.testing import accounts as personas

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

    def submit(self, language: str = "th") -> Inquiry:
        with self.captureOnCommitCallbacks(execute=False):
            response = self.client.post(
                f"/{language}/contact/dpo/",
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
        personas.sign_in_with_second_factor(self.client, self.dpo)
        queue = self.client.get("/th/dpo/inquiries/")
        self.assertContains(queue, inquiry.reference)
        self.assertNotContains(queue, "มาลี")
        other = User.objects.create_user("dpo.o", "pw-dpo-12345", subject=Subject.objects.create(), is_staff=True)
        StaffMembership.objects.create(user=other, agency=Agency.objects.get(slug="most-ops"), role=StaffRole.DPO)
        personas.sign_in_with_second_factor(self.client, other)
        self.assertNotContains(self.client.get("/th/dpo/inquiries/"), inquiry.reference)
        citizen = User.objects.create_user("c", "pw-c-12345678", subject=Subject.objects.create())
        self.client.force_login(citizen)
        self.assertEqual(self.client.get("/th/dpo/inquiries/").status_code, 403)

    def test_it_answers_by_email_and_closes_the_inquiry_v2(self) -> None:
        inquiry = self.submit()
        actions.answer_inquiry(inquiry=inquiry, answer="เขตเก็บเฉพาะชื่อและอีเมลของท่าน", actor=self.dpo)
        inquiry.refresh_from_db()
        self.assertEqual(inquiry.status, InquiryStatus.ANSWERED)
        [answer] = self.mailbox.received(to="malee@example.org")
        self.assertIn("เขตเก็บเฉพาะชื่อและอีเมลของท่าน", answer.get_content())
        self.assertIn(inquiry.reference, answer["Subject"])
        self.assertTrue(AuditEntry.objects.filter(action="consent.inquiry_answered", actor_id=self.dpo.pk))
        with self.assertRaises(ValueError):
            actions.answer_inquiry(inquiry=inquiry, answer="again", actor=self.dpo)

    def test_it_preselects_the_agency_the_policy_links_from_v2(self) -> None:
        page = self.client.get("/th/contact/dpo/", {"agency": "minburi"})
        self.assertContains(page, '<option value="minburi" selected>')

    def test_it_explains_field_errors_in_the_persons_language_v2(self) -> None:
        response = self.client.post("/en/contact/dpo/", {"agency": "minburi", "email": "not-an-address"})
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "Enter a valid email address.", status_code=400)
        self.assertFalse(Inquiry.objects.exists())


class InquiryPageTests(RealSmtp, TestCase):
    """The DPO reads one question through the gateway and answers it on the site (V2)."""

    databases = "__all__"
    minburi: Agency

    @classmethod
    def setUpTestData(cls) -> None:
        cls.minburi = demo.load_organisations()[1]

    def setUp(self) -> None:
        self.inquiry = actions.submit_inquiry(
            agency=self.minburi,
            kind="complaint",
            name="Malee Jaidee",
            email="malee@example.org",
            message=MESSAGE,
            subject=None,
            language="en",
        )

    def sign_in_dpo(self, username: str, agency: Agency) -> User:
        user = personas.staff(username, agency=agency, role=StaffRole.DPO)
        device = personas.with_totp(user)
        self.client.post("/th/accounts/login/", {"identifier": username, "password": personas.PASSWORD})
        self.client.post("/th/accounts/login/second-factor/", {"code": personas.totp_code(device)})
        return user

    def url(self, language: str = "th") -> str:
        return f"/{language}/dpo/inquiries/{self.inquiry.reference}/"

    def test_it_shows_the_dpo_the_message_status_and_deadline_and_audits_the_read_v2(self) -> None:
        dpo = self.sign_in_dpo("dpo.minburi", self.minburi)
        self.assertContains(self.client.get("/th/dpo/inquiries/"), self.url())
        page = self.client.get(self.url())
        self.assertContains(page, "Malee Jaidee")
        self.assertContains(page, MESSAGE)
        self.assertContains(page, "ได้รับแล้ว")
        self.assertEqual(page.context["inquiry"].due_date, timezone.localdate(self.inquiry.received_at) + timedelta(30))
        read = AuditEntry.objects.get(action="gateway.read", object_id=str(self.inquiry.pk))
        self.assertEqual((read.actor_id, read.outcome, read.purpose), (dpo.pk, "allowed", "rights_requests"))
        self.assertContains(self.client.get(self.url("en")), "Answer due by")

    def test_it_mails_the_answer_in_the_senders_language_and_closes_the_question_v2(self) -> None:
        dpo = self.sign_in_dpo("dpo.minburi", self.minburi)
        response = self.client.post(self.url(), {"answer": "We keep only your name and e-mail address."})
        self.assertRedirects(response, self.url())
        [mail] = self.mailbox.received(to="malee@example.org")
        self.assertIn("We keep only your name and e-mail address.", mail.get_content())
        self.assertIn("Dear Malee Jaidee", mail.get_content())
        self.inquiry.refresh_from_db()
        self.assertEqual((self.inquiry.status, self.inquiry.answered_by_id), (InquiryStatus.ANSWERED, dpo.pk))
        self.assertTrue(AuditEntry.objects.filter(action="consent.inquiry_answered", actor_id=dpo.pk))
        page = self.client.get(self.url())
        self.assertContains(page, "We keep only your name and e-mail address.")
        self.assertNotContains(page, 'name="answer"')

    def test_it_asks_again_for_an_empty_answer_and_sends_nothing_v2(self) -> None:
        self.sign_in_dpo("dpo.minburi", self.minburi)
        response = self.client.post(self.url("en"), {"answer": ""})
        self.assertContains(response, "This field is required.", status_code=400)
        self.assertEqual(self.mailbox.received(to="malee@example.org"), [])
        self.inquiry.refresh_from_db()
        self.assertEqual(self.inquiry.status, InquiryStatus.RECEIVED)

    def test_it_hides_another_agencys_question_from_its_dpo_v2(self) -> None:
        self.sign_in_dpo("dpo.most", Agency.objects.get(slug="most-ops"))
        self.assertEqual(self.client.get(self.url()).status_code, 404)
        self.assertEqual(self.client.post(self.url(), {"answer": "x"}).status_code, 404)
        self.assertFalse(AuditEntry.objects.filter(action="gateway.read", object_id=str(self.inquiry.pk)))
        self.assertEqual(self.mailbox.received(to="malee@example.org"), [])

    def test_it_records_nothing_as_answered_when_the_mail_cannot_be_sent_v2(self) -> None:
        self.sign_in_dpo("dpo.minburi", self.minburi)
        unreachable = {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 1, "timeout": 2},
        }
        with self.settings(MAILERS={"default": unreachable}):
            response = self.client.post(self.url("en"), {"answer": "An answer that cannot leave."})
        self.assertContains(response, "nothing was recorded", status_code=400)
        self.inquiry.refresh_from_db()
        self.assertEqual(self.inquiry.status, InquiryStatus.RECEIVED)
        self.assertFalse(AuditEntry.objects.filter(action="consent.inquiry_answered"))
