from django.test import TestCase

from raksa.accounts.models import User
from raksa.audit.models import AuditEntry
from raksa.consent import actions
from raksa.consent.models import Channel, Consent, ConsentEvent, GivenBy
from raksa.core import demo
from raksa.organisations.models import Agency
from raksa.registry import MARKETING, NEWS_AND_PR, OPINION_SURVEYS, SERVICE_DELIVERY
from raksa.subjects.models import Subject


class ConsentTests(TestCase):
    databases = "__all__"
    minburi: Agency
    subject: Subject
    person: User

    @classmethod
    def setUpTestData(cls) -> None:
        cls.minburi = demo.load_organisations()[1]
        cls.subject = Subject.objects.create()
        cls.person = User.objects.create_user("malee", "pw-malee-1234", subject=cls.subject)

    def grant_form(self, purpose: str, **fields: str) -> dict[str, str]:
        prefix = f"minburi-{purpose}"
        return {"agency": "minburi", "purpose": purpose, **{f"{prefix}-{k}": v for k, v in fields.items()}}

    def test_it_offers_each_purpose_separately_and_never_pre_ticked_u1(self) -> None:
        self.client.force_login(self.person)
        page = self.client.get("/th/consents/").content.decode()
        for purpose in (NEWS_AND_PR, OPINION_SURVEYS):
            self.assertIn(f'id="minburi-{purpose.code}"', page)
            self.assertIn(purpose.label_th, page)
        self.assertNotIn("checked", page)
        self.assertNotIn(MARKETING.label_th, page)

    def test_it_records_a_grant_with_purpose_policy_time_and_channel_u1(self) -> None:
        self.client.force_login(self.person)
        response = self.client.post(
            "/th/consents/grant/", self.grant_form("opinion_surveys", age_group="adult", email="malee@example.org")
        )
        self.assertEqual(response.status_code, 302)
        consent = Consent.objects.get(subject=self.subject, agency=self.minburi, purpose="opinion_surveys")
        self.assertTrue(consent.granted)
        event = consent.events.get()
        self.assertEqual((event.action, event.channel, event.given_by), ("granted", "web", GivenBy.SELF))
        self.assertTrue(
            AuditEntry.objects.filter(action="consent.granted", subject_id=self.subject.pk, purpose="opinion_surveys")
        )

    def test_it_withdraws_in_one_action_at_once_and_keeps_the_history_u1(self) -> None:
        actions.grant_consent(
            subject=self.subject,
            agency=self.minburi,
            purpose="opinion_surveys",
            channel=Channel.APP,
            minor=False,
            email="malee@example.org",
        )
        self.client.force_login(self.person)
        response = self.client.post("/th/consents/withdraw/", {"agency": "minburi", "purpose": "opinion_surveys"})
        self.assertEqual(response.status_code, 302)
        self.assertFalse(actions.has_live_consent(subject=self.subject, agency=self.minburi, purpose="opinion_surveys"))
        history = list(ConsentEvent.objects.filter(consent__subject=self.subject).values_list("action", "channel"))
        self.assertEqual(history, [("granted", "app"), ("withdrawn", "web")])
        self.assertContains(self.client.get("/en/consents/"), "withdrawn (website")

    def test_it_refuses_a_minor_without_a_guardians_consent_pdpa_s20(self) -> None:
        self.client.force_login(self.person)
        response = self.client.post("/en/consents/grant/", self.grant_form("opinion_surveys", age_group="minor"))
        self.assertContains(response, "parent or legal guardian", status_code=400)
        self.assertFalse(Consent.objects.filter(subject=self.subject).exists())
        with self.assertRaises(actions.ConsentRefusedError):
            actions.grant_consent(
                subject=self.subject, agency=self.minburi, purpose="profile_prefill", channel="web", minor=True
            )

    def test_it_records_that_a_guardian_consented_for_a_minor_pdpa_s20(self) -> None:
        self.client.force_login(self.person)
        self.client.post(
            "/th/consents/grant/",
            self.grant_form("opinion_surveys", age_group="minor", guardian_consents="on", email="malee@example.org"),
        )
        event = ConsentEvent.objects.get(consent__subject=self.subject)
        self.assertEqual(event.given_by, GivenBy.GUARDIAN)

    def test_it_refuses_consent_for_a_purpose_not_based_on_consent_u1(self) -> None:
        for purpose in (SERVICE_DELIVERY.code, MARKETING.code):
            with self.assertRaises(actions.ConsentRefusedError):
                actions.grant_consent(
                    subject=self.subject, agency=self.minburi, purpose=purpose, channel="web", minor=False
                )

    def test_it_answers_not_found_for_a_visitor_or_another_persons_consent_u1(self) -> None:
        self.assertEqual(
            self.client.post("/th/consents/withdraw/", {"agency": "minburi", "purpose": "x"}).status_code, 404
        )
        other = User.objects.create_user("other", "pw-other-1234", subject=Subject.objects.create())
        actions.grant_consent(
            subject=self.subject, agency=self.minburi, purpose="profile_prefill", channel="web", minor=False
        )
        self.client.force_login(other)
        response = self.client.post("/th/consents/withdraw/", {"agency": "minburi", "purpose": "profile_prefill"})
        self.assertEqual(response.status_code, 404)
        self.assertTrue(actions.has_live_consent(subject=self.subject, agency=self.minburi, purpose="profile_prefill"))
