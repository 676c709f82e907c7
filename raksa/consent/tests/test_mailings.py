import uuid

from django.test import TestCase
from django_tasks_db.models import DBTaskResult

from raksa.accounts.models import User
from raksa.consent import actions, tasks
from raksa.consent.models import Consent, Mailing
from raksa.consent.tests.smtp import RealSmtp
from raksa.core import demo
from raksa.organisations.models import Agency, StaffMembership, StaffRole
from raksa.subjects.actions import lift_limits, limit_processing
from raksa.subjects.limits import ALL
from raksa.subjects.models import LimitKind, Subject
from raksa.testing import accounts as personas
from raksa.vault.openers import Opener


class MailingTests(RealSmtp, TestCase):
    databases = "__all__"
    minburi: Agency

    @classmethod
    def setUpTestData(cls) -> None:
        cls.minburi = demo.load_organisations()[1]

    def subscribe(self, address: str) -> Subject:
        subject = Subject.objects.create()
        actions.grant_consent(
            subject=subject, agency=self.minburi, purpose="news_and_pr", channel="web", minor=False, email=address
        )
        return subject

    def mailing(self, title: str) -> Mailing:
        return actions.create_mailing(
            agency=self.minburi, purpose="news_and_pr", title_th=title, body_th="ข่าวประชาสัมพันธ์", actor=None
        )

    def test_it_skips_a_person_who_withdrew_before_the_next_mailing_u1(self) -> None:
        somchai = self.subscribe("somchai@example.org")
        self.subscribe("malee@example.org")
        self.assertEqual(actions.deliver_mailing(mailing=self.mailing("ข่าวฉบับที่ 1")), 2)
        self.assertEqual(len(self.mailbox.received(to="somchai@example.org")), 1)

        actions.withdraw_consent(subject=somchai, agency=self.minburi, purpose="news_and_pr", channel="web")
        self.mailbox.clear()
        second = self.mailing("ข่าวฉบับที่ 2")
        self.assertEqual(tasks.send_mailing.call(mailing_id=second.pk), 1)
        self.assertEqual(self.mailbox.received(to="somchai@example.org"), [])
        received = self.mailbox.received(to="malee@example.org")
        self.assertEqual([message["Subject"] for message in received], ["ข่าวฉบับที่ 2"])
        self.assertIn("/th/consents/", received[0].get_content())

    def test_it_forgets_the_address_when_consent_is_withdrawn_u1(self) -> None:
        subject = self.subscribe("somchai@example.org")
        consent = Consent.objects.get(subject=subject)
        self.assertEqual(Opener.for_subject(subject.pk).open_field(consent, "email"), "somchai@example.org")
        actions.withdraw_consent(subject=subject, agency=self.minburi, purpose="news_and_pr", channel="web")
        consent.refresh_from_db()
        self.assertIsNone(consent.email)
        self.assertEqual(consent.events.count(), 2)

    def test_it_skips_a_person_who_objected_to_news_but_still_sends_them_surveys(self) -> None:
        somchai = self.subscribe("somchai@example.org")
        actions.grant_consent(
            subject=somchai,
            agency=self.minburi,
            purpose="opinion_surveys",
            channel="web",
            minor=False,
            email="somchai@example.org",
        )
        self.subscribe("malee@example.org")
        # PDPA s32: the objection to news is upheld; surveys were not objected to.
        limit_processing(
            subject=somchai, kind=LimitKind.OBJECTION, purposes=["news_and_pr"], reference=uuid.uuid4(), actor=None
        )
        self.assertEqual(actions.deliver_mailing(mailing=self.mailing("ข่าวฉบับที่ 1")), 1)
        self.assertEqual(self.mailbox.received(to="somchai@example.org"), [])
        survey = actions.create_mailing(
            agency=self.minburi, purpose="opinion_surveys", title_th="แบบสำรวจ", body_th="โปรดตอบ", actor=None
        )
        self.assertEqual(actions.deliver_mailing(mailing=survey), 1)
        self.assertEqual([m["Subject"] for m in self.mailbox.received(to="somchai@example.org")], ["แบบสำรวจ"])

    def test_it_skips_a_person_while_a_restriction_is_in_force(self) -> None:
        somchai = self.subscribe("somchai@example.org")
        reference = uuid.uuid4()
        limit_processing(subject=somchai, kind=LimitKind.RESTRICTION, purposes=[ALL], reference=reference, actor=None)
        self.assertEqual(actions.deliver_mailing(mailing=self.mailing("ข่าวฉบับที่ 1")), 0)
        lift_limits(subject=somchai, reference=reference, actor=None)
        self.assertEqual(actions.deliver_mailing(mailing=self.mailing("ข่าวฉบับที่ 2")), 1)
        self.assertEqual([m["Subject"] for m in self.mailbox.received(to="somchai@example.org")], ["ข่าวฉบับที่ 2"])

    def test_it_sends_a_mailing_only_once_u1(self) -> None:
        self.subscribe("somchai@example.org")
        mailing = self.mailing("ข่าว")
        actions.deliver_mailing(mailing=mailing)
        mailing.refresh_from_db()
        actions.deliver_mailing(mailing=mailing)
        self.assertEqual(len(self.mailbox.received(to="somchai@example.org")), 1)

    def test_it_refuses_a_mailing_for_marketing_d2(self) -> None:
        with self.assertRaises(actions.ConsentRefusedError):
            actions.create_mailing(agency=self.minburi, purpose="marketing", title_th="x", body_th="x", actor=None)

    def test_it_lets_only_the_agencys_staff_queue_a_mailing_u1(self) -> None:
        self.subscribe("somchai@example.org")
        admin = User.objects.create_user("admin.t", "pw-admin-1234", subject=Subject.objects.create(), is_staff=True)
        StaffMembership.objects.create(user=admin, agency=self.minburi, role=StaffRole.ADMINISTRATOR)
        officer = User.objects.create_user("off.t", "pw-off-12345", subject=Subject.objects.create(), is_staff=True)
        StaffMembership.objects.create(user=officer, agency=self.minburi, role=StaffRole.OFFICER)
        personas.sign_in_with_second_factor(self.client, officer)
        self.assertEqual(self.client.get("/th/staff/mailings/").status_code, 404)
        personas.sign_in_with_second_factor(self.client, admin)
        self.assertContains(self.client.get("/en/staff/mailings/"), "1 person consents now")
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                "/th/staff/mailings/", {"purpose": "news_and_pr", "title_th": "ข่าวเขต", "body_th": "เนื้อหา"}
            )
        self.assertRedirects(response, "/th/staff/mailings/", fetch_redirect_response=False)
        mailing = Mailing.objects.get(title_th="ข่าวเขต")
        self.assertTrue(DBTaskResult.objects.filter(args_kwargs__kwargs__mailing_id=mailing.pk).exists())
