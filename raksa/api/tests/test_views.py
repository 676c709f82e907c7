"""Each endpoint through the test client: the person's own data only, another person's IDs answer 404."""

import uuid
from datetime import timedelta
from typing import Any

from django.test import override_settings
from django.utils import timezone

from raksa.accounts.addresses import store
from raksa.accounts.models import AppToken
from raksa.api.tests.client import ApiTestCase
from raksa.audit.actions import record
from raksa.audit.models import AuditEntry
from raksa.consent.actions import grant_consent, has_live_consent
from raksa.consent.models import Consent, ConsentAction, ConsentEvent
from raksa.content.models import NewsItem
from raksa.disclosures.actions import disclose
from raksa.disclosures.models import Recipient, RecipientKind
from raksa.disclosures.processing import consent_key
from raksa.disclosures.tests.fixtures import court_order, inquiry, thai_post
from raksa.organisations.models import Agency, Controller
from raksa.rights.actions import extend_due_date, file_request, set_status
from raksa.rights.export import SCHEMA, SCHEMA_VERSION, assemble
from raksa.rights.models import RightsRequest
from raksa.services.models import Registration, Status
from raksa.services.tests import builders
from raksa.testing import accounts as personas
from raksa.testing.mailbox import links, running
from raksa.vault.openers import Opener

EMAIL = "malee@example.org"


class AccountTests(ApiTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.user = personas.citizen("malee")
        store(self.user, EMAIL)
        self.token = self.token_for(self.user)

    def test_it_shows_my_account(self) -> None:
        me = self.call("GET", "/me", token=self.token).json()
        self.assertEqual((me["username"], me["email"], me["email_confirmed"]), ("malee", EMAIL, False))

    @override_settings(TASKS=personas.IMMEDIATE_TASKS)
    def test_it_changes_my_address_once_the_link_mailed_to_it_is_followed(self) -> None:
        running().clear()
        me = self.call("PATCH", "/me", {"email": "new.malee@example.org"}, token=self.token).json()
        self.assertEqual(me["email"], EMAIL)  # not yet: only the link proves the new address
        [message] = running().received()
        self.assertEqual(message["To"], "new.malee@example.org")
        self.assertEqual(self.client.post(links(message)[0]).status_code, 200)
        me = self.call("GET", "/me", token=self.token).json()
        self.assertEqual((me["email"], me["email_confirmed"]), ("new.malee@example.org", True))
        self.assertIn("accounts.email_changed", AuditEntry.objects.values_list("action", flat=True))
        self.assertEqual(self.client.post(links(message)[0]).status_code, 400)  # once

    @override_settings(TASKS=personas.IMMEDIATE_TASKS)
    def test_it_answers_alike_for_an_address_another_account_has(self) -> None:
        other = personas.citizen("somchai")
        store(other, "somchai@example.org")
        running().clear()
        taken = self.call("PATCH", "/me", {"email": "somchai@example.org"}, token=self.token)
        free = self.call("PATCH", "/me", {"email": "free@example.org"}, token=self.token)
        self.assertEqual((taken.status_code, taken.json()), (free.status_code, free.json()))
        self.assertEqual(self.call("GET", "/me", token=self.token).json()["email"], EMAIL)
        # The owner of the taken address is told; nothing is sent for it to the person asking.
        self.assertEqual(len(running().received(to="somchai@example.org")), 1)
        self.assertEqual(len(running().received(to="free@example.org")), 1)

    def test_it_refuses_a_wrong_address_and_the_user_id(self) -> None:
        wrong = self.call("PATCH", "/me", {"email": "no"}, token=self.token)
        self.assertIn("email", self.field_errors(self.assertProblem(wrong, 422, "invalid-input")))
        renamed = self.call("PATCH", "/me", {"username": "other"}, token=self.token)
        self.assertIn("username", self.field_errors(self.assertProblem(renamed, 422, "invalid-input")))
        self.assertEqual(self.call("GET", "/me", token=self.token).json()["email"], EMAIL)


class PolicyTests(ApiTestCase):
    def setUp(self) -> None:
        super().setUp()
        controller = Controller.objects.create(slug="bma", name_th="กทม.", name_en="BMA")
        self.agency = Agency.objects.create(slug="minburi", controller=controller, name_th="เขตมีนบุรี", name_en="Minburi")

    def test_it_serves_the_platform_policy_accepted_at_sign_up(self) -> None:
        policy = self.call("GET", "/policy").json()
        self.assertEqual((policy["scope"], policy["version"]), ("platform", self.policy.number))
        self.assertTrue(policy["processing"])
        self.assertIn("Privacy policy", policy["text"])

    def test_it_serves_an_agencys_policy_and_its_versions(self) -> None:
        agencies = self.call("GET", "/agencies").json()
        self.assertEqual([a["slug"] for a in agencies["items"]], ["minburi"])
        # Without a policy of its own, the platform's governs the agency.
        self.assertEqual(self.call("GET", "/agencies/minburi/policy").json()["scope"], "platform")
        self.assertEqual(self.call("GET", "/agencies/minburi/policy/versions").json()["items"], [])
        self.assertProblem(self.call("GET", "/agencies/nowhere/policy"), 404, "not-found")
        builders.publish_policy(self.agency)
        own = self.call("GET", "/agencies/minburi/policy").json()
        self.assertEqual((own["scope"], own["version"]), ("minburi", 1))
        versions = self.call("GET", "/agencies/minburi/policy/versions").json()["items"]
        self.assertEqual([v["version"] for v in versions], [1])
        self.assertProblem(self.call("GET", "/agencies/platform/policy"), 404, "not-found")


class ConsentTests(ApiTestCase):
    def setUp(self) -> None:
        super().setUp()
        controller = Controller.objects.create(slug="bma", name_th="กทม.", name_en="BMA")
        Agency.objects.create(slug="minburi", controller=controller, name_th="เขตมีนบุรี", name_en="Minburi")
        self.user = personas.citizen("malee")
        self.token = self.token_for(self.user)

    def test_it_grants_and_withdraws_a_consent_from_the_app(self) -> None:
        listed = self.call("GET", "/me/consents", token=self.token).json()["items"]
        self.assertIn(("minburi", "news_and_pr", False), [(c["agency"], c["purpose"], c["granted"]) for c in listed])
        body = {"agency": "minburi", "granted": True, "age_group": "adult", "email": EMAIL}
        granted = self.call("PUT", "/me/consents/news_and_pr", body, token=self.token).json()
        self.assertTrue(granted["granted"])
        withdrawn = self.call(
            "PUT", "/me/consents/news_and_pr", {"agency": "minburi", "granted": False}, token=self.token
        )
        self.assertFalse(withdrawn.json()["granted"])
        self.assertEqual(
            list(ConsentEvent.objects.values_list("action", "channel")), [("granted", "app"), ("withdrawn", "app")]
        )

    def test_it_refuses_a_minor_without_a_guardian_field_by_field(self) -> None:
        body = {"agency": "minburi", "granted": True, "age_group": "minor", "email": EMAIL}
        refused = self.call("PUT", "/me/consents/news_and_pr", body, token=self.token)
        self.assertIn("guardian_consents", self.field_errors(self.assertProblem(refused, 422, "invalid-input")))
        self.assertFalse(Consent.objects.exists())

    def test_it_answers_404_for_a_purpose_not_on_consent(self) -> None:
        body = {"agency": "minburi", "granted": True, "age_group": "adult"}
        self.assertProblem(self.call("PUT", "/me/consents/marketing", body, token=self.token), 404, "not-found")


def health_centre(office: Agency, *, purposes: list[str]) -> Recipient:
    """A recipient people may consent to disclose to (not a processor)."""
    return Recipient.objects.create(
        agency=office,
        slug="health-centre",
        name_th="ศูนย์บริการสาธารณสุข",
        name_en="Public health centre",
        kind=RecipientKind.AGENCY,
        purposes=purposes,
        fields=["consent.inquiry.name"],
    )


class RecipientConsentTests(ApiTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.office = builders.agency()
        self.health = health_centre(self.office, purposes=["opinion_surveys", "marketing"])
        thai_post(self.office)  # a processor: never a consent choice
        builders.publish_policy(self.office)
        self.key = consent_key(self.health)
        self.user = personas.citizen("malee")
        self.token = self.token_for(self.user)

    def test_it_grants_and_withdraws_a_consent_to_one_recipient_d1(self) -> None:
        listed = self.call("GET", "/me/consents/recipients", token=self.token).json()["items"]
        self.assertEqual(
            [(c["recipient"], c["recipient_name"], c["purpose"], c["granted"]) for c in listed],
            [(self.key, "Public health centre", "opinion_surveys", False)],
        )
        body = {"agency": self.office.slug, "recipient": self.key, "granted": True, "age_group": "adult"}
        granted = self.call("PUT", "/me/consents/recipients/opinion_surveys", body, token=self.token)
        self.assertTrue(granted.json()["granted"], granted.content)
        consent: dict[str, Any] = {"subject": self.user.subject, "agency": self.office, "purpose": "opinion_surveys"}
        self.assertTrue(has_live_consent(**consent, recipient=self.key))
        self.assertFalse(has_live_consent(**consent), "the agency's own consent is a separate choice")
        withdrawn = self.call(
            "PUT", "/me/consents/recipients/opinion_surveys", {**body, "granted": False}, token=self.token
        )
        self.assertFalse(withdrawn.json()["granted"])
        self.assertFalse(has_live_consent(**consent, recipient=self.key))
        self.assertEqual(
            list(ConsentEvent.objects.values_list("action", "channel")), [("granted", "app"), ("withdrawn", "app")]
        )

    def test_it_records_a_consent_to_what_the_app_showed_only_d1(self) -> None:
        (offer,) = self.call("GET", "/me/consents/recipients", token=self.token).json()["items"]
        self.assertEqual((offer["categories"], offer["covers"]), (["name"], []))
        self.health.fields = [*self.health.fields, "consent.inquiry.message"]
        self.health.save()
        body = {"agency": self.office.slug, "recipient": self.key, "granted": True, "age_group": "adult"}
        stale = self.call(
            "PUT",
            "/me/consents/recipients/opinion_surveys",
            {**body, "categories": offer["categories"]},
            token=self.token,
        )
        self.assertProblem(stale, 409, "conflict")
        self.assertFalse(Consent.objects.exists(), "a consent to less than the recipient receives is not recorded")
        (offer,) = self.call("GET", "/me/consents/recipients", token=self.token).json()["items"]
        granted = self.call(
            "PUT",
            "/me/consents/recipients/opinion_surveys",
            {**body, "categories": offer["categories"]},
            token=self.token,
        ).json()
        self.assertEqual((granted["granted"], sorted(granted["covers"])), (True, ["message", "name"]))

    def test_it_refuses_what_is_not_offered_and_a_minor_alone(self) -> None:
        body = {"agency": self.office.slug, "recipient": self.key, "granted": True, "age_group": "adult"}
        for purpose, changes in (("marketing", {}), ("opinion_surveys", {"recipient": "disclosures.recipient:999"})):
            refused = self.call("PUT", f"/me/consents/recipients/{purpose}", {**body, **changes}, token=self.token)
            self.assertProblem(refused, 404, "not-found")
        minor = self.call(
            "PUT", "/me/consents/recipients/opinion_surveys", {**body, "age_group": "minor"}, token=self.token
        )
        self.assertIn("guardian_consents", self.field_errors(self.assertProblem(minor, 422, "invalid-input")))
        self.assertFalse(Consent.objects.exists())


class ServiceTests(ApiTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.office = builders.agency()
        self.certificate = builders.certificate(self.office)
        self.user = personas.citizen("malee")
        self.token = self.token_for(self.user)

    def registration_body(self, **changes: object) -> dict:
        detail = self.call("GET", "/services/certificate").json()
        return {
            "notice": detail["notice_version"],
            "submission_key": str(uuid.uuid4()),
            "values": {
                "name": "มาลี ใจดี",
                "national_id": builders.NATIONAL_ID,
                "phone": builders.PHONE,
                "email": EMAIL,
                **builders.ADDRESS,
            },
            **changes,
        }

    def test_it_lists_services_and_shows_the_notice_and_fields(self) -> None:
        listed = self.call("GET", "/services").json()["items"]
        self.assertEqual([s["slug"] for s in listed], ["certificate"])
        detail = self.call("GET", "/services/certificate", language="th").json()
        self.assertEqual(detail["title"], "ขอหนังสือรับรองถิ่นที่อยู่")
        names = {field["name"] for field in detail["fields"]}
        self.assertLessEqual({"name", "national_id", "phone", "email", "address_postal_code"}, names)
        self.assertEqual(detail["notice"]["service"]["slug"], "certificate")
        self.assertProblem(self.call("GET", "/services/nothing"), 404, "not-found")

    def test_it_registers_once_per_submission_key_through_the_web_form(self) -> None:
        body = self.registration_body()
        created = self.call("POST", "/services/certificate/registrations", body, token=self.token)
        self.assertEqual(created.status_code, 201, created.content)
        again = self.call("POST", "/services/certificate/registrations", body, token=self.token)
        self.assertEqual((again.status_code, again.json()["id"]), (200, created.json()["id"]))
        registration = Registration.objects.get()
        self.assertEqual(registration.subject, self.user.subject)
        mine = self.call("GET", "/me/registrations", token=self.token).json()["items"]
        self.assertEqual([r["id"] for r in mine], [str(registration.pk)])
        self.assertIn("services.registered", AuditEntry.objects.values_list("action", flat=True))

    def test_it_validates_thai_data_and_refuses_undeclared_fields_c1(self) -> None:
        values = {**self.registration_body()["values"], "national_id": "1234567890123", "religion": "พุทธ"}
        refused = self.call(
            "POST", "/services/certificate/registrations", self.registration_body(values=values), token=self.token
        )
        errors = self.field_errors(self.assertProblem(refused, 422, "invalid-input"))
        self.assertIn("values/national_id", errors)
        self.assertIn("", errors)  # "This service does not ask for religion"
        self.assertFalse(Registration.objects.exists())

    def test_it_answers_409_when_the_notice_changed(self) -> None:
        stale = self.registration_body(notice=99)
        self.assertProblem(
            self.call("POST", "/services/certificate/registrations", stale, token=self.token), 409, "conflict"
        )

    def test_it_cancels_my_registration_and_404s_another_persons(self) -> None:
        simple = builders.certificate(self.office, slug="simple", fields=("name", "email"))
        mine = builders.registration(simple, self.user)
        theirs = builders.registration(simple, builders.citizen("somchai"))
        self.assertProblem(self.call("DELETE", f"/me/registrations/{theirs.pk}", token=self.token), 404, "not-found")
        self.assertProblem(self.call("DELETE", f"/me/registrations/{uuid.uuid4()}", token=self.token), 404, "not-found")
        theirs.refresh_from_db()
        self.assertEqual(theirs.status, Status.RECEIVED)
        cancelled = self.call("DELETE", f"/me/registrations/{mine.pk}", token=self.token).json()
        self.assertEqual(cancelled["status"], Status.CANCELLED)

    def test_it_shows_my_place_on_the_waiting_list_and_my_calendar_file(self) -> None:
        workshop = builders.activity(self.office, capacity=1)
        builders.registration(workshop, builders.citizen("somchai"))
        builders.registration(workshop, builders.citizen("somsri"))
        mine = builders.registration(workshop, self.user)
        waiting = self.call("GET", f"/me/registrations/{mine.pk}", token=self.token).json()
        self.assertEqual((waiting["status"], waiting["waiting_position"]), (Status.WAITLISTED, 2))
        listed = self.call("GET", "/me/registrations", token=self.token).json()["items"]
        self.assertEqual([r["waiting_position"] for r in listed], [2])
        self.assertProblem(
            self.call("GET", f"/me/registrations/{mine.pk}/activity.ics", token=self.token), 404, "not-found"
        )
        seat = builders.registration(builders.activity(self.office, slug="first-aid"), self.user)
        ics = self.call("GET", f"/me/registrations/{seat.pk}/activity.ics", token=self.token)
        self.assertEqual((ics.status_code, ics["Content-Type"]), (200, "text/calendar; charset=utf-8"))
        self.assertIn("BEGIN:VEVENT", ics.content.decode())
        self.assertIsNone(self.call("GET", f"/me/registrations/{seat.pk}", token=self.token).json()["waiting_position"])
        theirs = Registration.objects.exclude(subject=self.user.subject).first()
        assert theirs is not None
        self.assertProblem(self.call("GET", f"/me/registrations/{theirs.pk}", token=self.token), 404, "not-found")
        self.assertProblem(
            self.call("GET", f"/me/registrations/{theirs.pk}/activity.ics", token=self.token), 404, "not-found"
        )

    def test_it_lists_upcoming_activities_by_cursor(self) -> None:
        for number in range(3):
            builders.activity(self.office, slug=f"workshop-{number}")
        first = self.call("GET", "/activities?limit=2").json()
        self.assertEqual(len(first["items"]), 2)
        second = self.call("GET", f"/activities?limit=2&cursor={first['next_cursor']}").json()
        self.assertEqual(len(second["items"]), 1)
        self.assertIsNone(second["next_cursor"])
        slugs = [a["slug"] for a in first["items"] + second["items"]]
        self.assertEqual(sorted(slugs), ["workshop-0", "workshop-1", "workshop-2"])
        other = self.call("GET", f"/news?cursor={first['next_cursor']}")
        self.assertIn("cursor", self.field_errors(self.assertProblem(other, 422, "invalid-input")))


class RightsTests(ApiTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.user = personas.citizen("malee")
        store(self.user, EMAIL)
        self.token = self.token_for(self.user)

    def test_it_serves_my_data_in_the_exports_schema(self) -> None:
        data = self.call("GET", "/me/data", token=self.token).json()
        self.assertEqual((data["schema"], data["version"]), (SCHEMA, SCHEMA_VERSION))
        subject = builders.subject_of(self.user)
        expected = assemble(subject.id, opener=Opener.for_subject(subject.id))
        self.assertEqual([s["store"] for s in data["stores"]], [s["store"] for s in expected["stores"]])
        emails = [
            row["fields"]["email"]["value"]
            for store_ in data["stores"]
            if store_["store"] == "accounts.accountemail"
            for row in store_["rows"]
        ]
        self.assertEqual(emails, [EMAIL])

    def test_it_files_a_request_as_a_case_with_a_due_date(self) -> None:
        filed = self.call("POST", "/me/requests", {"type": "rectification", "details": "ที่อยู่ผิด"}, token=self.token)
        self.assertEqual(filed.status_code, 201)
        case = filed.json()
        self.assertEqual((case["type"], case["status"]), ("rectification", "received"))
        self.assertEqual(case["due_date"], str(RightsRequest.objects.get().due_date))
        detail = self.call("GET", f"/me/requests/{case['id']}", token=self.token).json()
        self.assertEqual(detail["details"], "ที่อยู่ผิด")
        listed = self.call("GET", "/me/requests", token=self.token).json()["items"]
        self.assertEqual([r["id"] for r in listed], [case["id"]])
        self.assertIn("rights.request.file", AuditEntry.objects.values_list("action", flat=True))

    def test_it_asks_for_the_password_again_as_the_website_does(self) -> None:
        AppToken.objects.update(created_at=timezone.now() - timedelta(minutes=11))
        refused = self.call("POST", "/me/requests", {"type": "erasure"}, token=self.token)
        self.assertProblem(refused, 403, "reauthentication-required")
        self.assertProblem(self.call("GET", "/me/data", token=self.token), 403, "reauthentication-required")
        self.assertFalse(RightsRequest.objects.exists())
        fresh = self.token_for(self.user)
        self.assertEqual(self.call("POST", "/me/requests", {"type": "erasure"}, token=fresh).status_code, 201)

    def test_it_withdraws_a_consent_by_request_at_once(self) -> None:
        office = builders.agency()
        subject = builders.subject_of(self.user)
        grant_consent(subject=subject, agency=office, purpose="profile_prefill", channel="web", minor=False)
        body = {"type": "consent_withdrawal", "agency": office.slug, "purpose": "profile_prefill"}
        filed = self.call("POST", "/me/requests", body, token=self.token).json()
        self.assertEqual(filed["status"], "completed")
        consent = Consent.objects.get(subject=subject)
        self.assertFalse(consent.granted)
        withdrawal = consent.events.get(action=ConsentAction.WITHDRAWN)
        self.assertEqual(withdrawal.channel, "app", "the evidence names the channel the person used")
        unknown = self.call("POST", "/me/requests", {**body, "purpose": "news_and_pr"}, token=self.token)
        self.assertIn("purpose", self.field_errors(self.assertProblem(unknown, 422, "invalid-input")))

    def test_it_gives_the_legal_reasons_of_a_refusal_and_an_extension(self) -> None:
        filed = self.call("POST", "/me/requests", {"type": "erasure"}, token=self.token).json()
        case = RightsRequest.objects.get(pk=filed["id"])
        extend_due_date(request=case, days=30, reason="complex_request", actor=self.user)
        detail = self.call("GET", f"/me/requests/{case.id}", token=self.token, language="th").json()
        self.assertEqual(
            detail["extension_reason"], {"code": "complex_request", "text": "คำขอมีความซับซ้อนหรือเกี่ยวข้องกับข้อมูลจำนวนมาก"}
        )
        self.assertIsNone(detail["refusal_reason"])
        set_status(request=case, status="refused", refusal_reason="pdpa_s33_legal_obligation", actor=self.user)
        detail = self.call("GET", f"/me/requests/{case.id}", token=self.token).json()
        self.assertEqual(
            detail["refusal_reason"],
            {"code": "pdpa_s33_legal_obligation", "text": "PDPA s33 paragraph 2: kept to comply with the law"},
        )

    def test_it_refuses_an_unknown_request_type(self) -> None:
        refused = self.call("POST", "/me/requests", {"type": "everything"}, token=self.token)
        self.assertIn("type", self.field_errors(self.assertProblem(refused, 422, "invalid-input")))
        self.assertFalse(RightsRequest.objects.exists())

    def test_it_answers_404_for_another_persons_request(self) -> None:
        other = personas.citizen("somchai")
        theirs = file_request(subject=builders.subject_of(other), type="access", details="ของฉัน")
        self.assertProblem(self.call("GET", f"/me/requests/{theirs.id}", token=self.token), 404, "not-found")

    def test_it_shows_who_looked_at_my_data_and_who_received_it(self) -> None:
        office = builders.agency()
        officer = builders.officer("officer", office)
        record(
            action="gateway.read",
            actor=officer.user,
            role="officer",
            agency_id=office.pk,
            subject_id=self.user.subject_id,
            object_type="accounts.accountemail",
            fields=["email"],
            purpose="service_delivery",
            legal_basis="pdpa_24_4",
        )
        looks = self.call("GET", "/me/access-log", token=self.token).json()["items"]
        self.assertEqual([(look["who"], look["result"]) for look in looks], [("officer", "read")])
        self.assertEqual(
            self.call("GET", "/me/disclosures", token=self.token).json(), {"items": [], "next_cursor": None}
        )
        court = Recipient.objects.create(
            agency=office,
            slug="civil-court",
            name_th="ศาลแพ่ง",
            name_en="Civil Court",
            kind=RecipientKind.COURT,
            purposes=["rights_requests"],
            fields=["consent.inquiry.name"],
        )
        builders.publish_policy(office)
        subject = builders.subject_of(self.user)
        inquiry(office, subject)
        disclose(
            subject=subject,
            recipient=court,
            purpose="rights_requests",
            fields=["consent.inquiry.name"],
            basis=court_order(),
            actor=officer.user,
        )
        ledger = self.call("GET", "/me/disclosures", token=self.token).json()["items"]
        shown = [(line["recipient"], line["basis"], line["fields"]) for line in ledger]
        self.assertEqual(shown, [("Civil Court", "legal", ["consent.inquiry.name"])])
        other = self.token_for(personas.citizen("somchai"))
        self.assertEqual(self.call("GET", "/me/disclosures", token=other).json()["items"], [])


class NewsTests(ApiTestCase):
    def test_it_lists_published_news_newest_first(self) -> None:
        now = timezone.now()
        for days in (1, 2, 3):
            NewsItem.objects.create(
                title_th=f"ข่าว {days}", summary_th="สรุป", body_th="เนื้อหา", published_at=now - timedelta(days=days)
            )
        NewsItem.objects.create(title_th="ร่าง", summary_th="", body_th="", published_at=now, is_published=False)
        first = self.call("GET", "/news?limit=2", language="th").json()
        rest = self.call("GET", f"/news?limit=2&cursor={first['next_cursor']}").json()
        self.assertEqual([n["title"] for n in first["items"] + rest["items"]], ["ข่าว 1", "ข่าว 2", "ข่าว 3"])


@override_settings(TASKS=personas.IMMEDIATE_TASKS)
class CitizenJourneyTests(ApiTestCase):
    def test_it_serves_every_citizen_action_to_the_app_c4(self) -> None:
        office = builders.agency()
        builders.certificate(office, fields=("name", "email"))
        health_centre(office, purposes=["opinion_surveys"])
        builders.publish_policy(office)
        running().clear()
        # See the policy, create an account accepting it, confirm the address, log in.
        version = self.call("GET", "/policy").json()["version"]
        body = {"username": "malee", "email": EMAIL, "password": personas.PASSWORD, "accepted_policy_version": version}
        self.assertEqual(self.call("POST", "/auth/register", body).status_code, 202)
        [message] = running().received(to=EMAIL)
        self.client.post(links(message)[0])
        token = self.call("POST", "/auth/login", {"username": EMAIL, "password": personas.PASSWORD}).json()["token"]
        self.assertTrue(self.call("GET", "/me", token=token).json()["email_confirmed"])
        # Consent, and register for a service after reading its notice.
        consent = {"agency": office.slug, "granted": True, "age_group": "adult"}
        self.assertTrue(self.call("PUT", "/me/consents/profile_prefill", consent, token=token).json()["granted"])
        notice = self.call("GET", "/services/certificate").json()["notice_version"]
        registration = {
            "notice": notice,
            "submission_key": str(uuid.uuid4()),
            "values": {"name": "มาลี ใจดี", "email": EMAIL},
        }
        self.assertEqual(
            self.call("POST", "/services/certificate/registrations", registration, token=token).status_code, 201
        )
        # Consent to one recipient of the agency, as a separate choice.
        recipients = self.call("GET", "/me/consents/recipients", token=token).json()["items"]
        chosen = {"agency": office.slug, "recipient": recipients[0]["recipient"], "granted": True, "age_group": "adult"}
        put = self.call("PUT", f"/me/consents/recipients/{recipients[0]['purpose']}", chosen, token=token)
        self.assertTrue(put.json()["granted"])
        # Register for an activity: a seat, and its calendar file.
        workshop = builders.activity(office)
        seat = {"notice": self.call("GET", f"/services/{workshop.slug}").json()["notice_version"]}
        seat |= {"submission_key": str(uuid.uuid4()), "values": {"name": "มาลี ใจดี", "email": EMAIL}}
        mine = self.call("POST", f"/services/{workshop.slug}/registrations", seat, token=token).json()
        self.assertIsNone(mine["waiting_position"])
        ics = self.call("GET", f"/me/registrations/{mine['id']}/activity.ics", token=token)
        self.assertIn("BEGIN:VEVENT", ics.content.decode())
        # Change my address: it changes once the link mailed to the new one is followed.
        running().clear()
        self.call("PATCH", "/me", {"email": "malee.new@example.org"}, token=token)
        [change] = running().received()
        self.client.post(links(change)[0])
        self.assertEqual(self.call("GET", "/me", token=token).json()["email"], "malee.new@example.org")
        # See and export everything held about me, and file a request.
        data = self.call("GET", "/me/data", token=token).json()
        stores = {store_["store"] for store_ in data["stores"] if store_["rows"]}
        self.assertLessEqual({"accounts.accountemail", "services.registration", "consent.consent"}, stores)
        filed = self.call("POST", "/me/requests", {"type": "access", "details": ""}, token=token)
        self.assertEqual(filed.status_code, 201)
        case = self.call("GET", f"/me/requests/{filed.json()['id']}", token=token).json()
        self.assertIsNone(case["refusal_reason"])
        self.assertEqual(self.call("GET", "/me/access-log", token=token).status_code, 200)
        self.assertEqual(self.call("GET", "/me/disclosures", token=token).status_code, 200)
        # Download everything as a PDF, through the background export and its single-use link.
        with self.captureOnCommitCallbacks(execute=True):
            export = self.call("POST", "/me/exports", {"format": "pdf"}, token=token).json()
        link = self.call("GET", f"/me/exports/{export['id']}", token=token).json()["download_url"]
        pdf = self.call("GET", link.removeprefix("http://testserver/api/v1"), token=token)
        self.assertEqual(pdf["Content-Type"], "application/pdf")
        # Correct what I may correct myself (nothing of mine yet), and see what erasure would remove.
        self.assertEqual(self.call("GET", "/me/corrections", token=token).json(), {"items": []})
        self.assertEqual(self.call("PATCH", "/me/corrections", {"changes": []}, token=token).status_code, 200)
        self.assertTrue(self.call("GET", "/me/erasure", token=token).json()["erased"])
        self.assertEqual(self.call("POST", "/auth/logout", token=token).status_code, 204)
        self.assertProblem(self.call("GET", "/me", token=token), 401, "unauthenticated")
        # Log in again, give the password again and close the account: an erasure request.
        token = self.call("POST", "/auth/login", {"username": "malee", "password": personas.PASSWORD}).json()["token"]
        again = self.call("POST", "/auth/reauthenticate", {"password": personas.PASSWORD}, token=token)
        self.assertEqual(again.status_code, 204)
        with self.captureOnCommitCallbacks(execute=True):
            closed = self.call("POST", "/me/account/close", {"confirm": True}, token=token)
        self.assertEqual(closed.json()["type"], "erasure")
        self.assertProblem(self.call("GET", "/me", token=token), 401, "unauthenticated")
