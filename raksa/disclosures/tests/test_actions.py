import csv
import io
import uuid
from datetime import date, timedelta
from typing import Any

from django.test import TestCase
from django.utils import timezone

from raksa.accounts.models import User
from raksa.audit.models import AuditEntry, Outcome
from raksa.consent import policies
from raksa.consent.actions import ConsentOutdatedError, grant_consent, withdraw_consent
from raksa.consent.models import Consent, Inquiry
from raksa.core import demo
from raksa.disclosures import actions, processing, ropa
from raksa.disclosures.actions import ConsentBasis, LegalDuty, RequestBasis
from raksa.disclosures.models import Basis, Breach, Disclosure, Export, Recipient, RecipientKind, RiskLevel
from raksa.disclosures.tests.fixtures import court_order, inquiry, publish_policy, thai_post
from raksa.organisations.models import Agency, StaffRole
from raksa.registry import registry
from raksa.subjects.actions import limit_processing
from raksa.subjects.limits import ALL
from raksa.subjects.models import LimitKind, Subject
from raksa.testing import accounts as personas


class DisclosureTests(TestCase):
    databases = "__all__"
    minburi: Agency
    dpo: User
    person: Subject
    inquiry: Inquiry
    partner: Recipient

    @classmethod
    def setUpTestData(cls) -> None:
        cls.minburi = demo.load_organisations()[1]
        cls.dpo = personas.staff("dpo.d", agency=cls.minburi, role=StaffRole.DPO)
        cls.person = Subject.objects.create()
        cls.inquiry = inquiry(cls.minburi, cls.person)
        cls.partner = Recipient.objects.create(
            agency=cls.minburi,
            slug="district-health",
            name_th="ศูนย์บริการสาธารณสุข",
            name_en="Public health centre",
            kind=RecipientKind.AGENCY,
            contract_reference="MOU 7/2569",
            contract_expires=date(2030, 1, 1),
            purposes=["opinion_surveys", "rights_requests", "marketing"],
            fields=["consent.inquiry.name", "consent.inquiry.email"],
        )
        publish_policy(cls.minburi)

    def consent_to_partner(self, purpose: str = "opinion_surveys") -> dict[str, Any]:
        consent: dict[str, Any] = {
            "subject": self.person,
            "agency": self.minburi,
            "purpose": purpose,
            "channel": "web",
            "recipient": processing.consent_key(self.partner),
        }
        grant_consent(**consent, minor=False)
        return consent

    def disclose(
        self, basis: actions.DisclosureBasis, purpose: str = "opinion_surveys", hold_until: date | None = None
    ) -> Disclosure:
        return actions.disclose(
            subject=self.person,
            recipient=self.partner,
            purpose=purpose,
            fields=["consent.inquiry.name"],
            basis=basis,
            actor=self.dpo,
            hold_until=hold_until,
        )

    def denials(self, action: str = "disclosures.refused") -> int:
        return AuditEntry.objects.filter(action=action, outcome=Outcome.DENIED, subject_id=self.person.pk).count()

    def test_it_discloses_with_live_consent_to_the_recipient_and_refuses_after_withdrawal_d1(self) -> None:
        consent = self.consent_to_partner()
        disclosure = self.disclose(ConsentBasis())
        self.assertEqual(disclosure.basis, Basis.CONSENT)
        self.assertTrue(
            AuditEntry.objects.filter(action="disclosures.disclosed", object_id=str(disclosure.pk)).exists()
        )
        withdraw_consent(**consent)
        with self.assertRaises(actions.DisclosureRefusedError):
            self.disclose(ConsentBasis())
        self.assertEqual(self.denials(), 1)

    def widen_partner_to_messages(self) -> None:
        """The DPO adds a field of a new category to the register, and a policy covering it is published."""
        self.partner.fields = [*self.partner.fields, "consent.inquiry.message"]
        self.partner.save()
        publish_policy(self.minburi)

    def disclose_fields(self, fields: list[str]) -> Disclosure:
        return actions.disclose(
            subject=self.person,
            recipient=self.partner,
            purpose="opinion_surveys",
            fields=fields,
            basis=ConsentBasis(),
            actor=self.dpo,
        )

    def test_it_refuses_a_category_added_after_the_consent_and_still_discloses_the_consented_ones_d1(self) -> None:
        self.consent_to_partner()
        self.widen_partner_to_messages()
        with self.assertRaisesMessage(actions.DisclosureRefusedError, registry.category("message").label):
            self.disclose_fields(["consent.inquiry.name", "consent.inquiry.message"])
        self.assertEqual(self.denials(), 1, "the refusal is audited")
        self.assertFalse(Disclosure.objects.filter(subject=self.person).exists())
        disclosure = self.disclose_fields(["consent.inquiry.name", "consent.inquiry.email"])
        self.assertEqual(disclosure.fields, ["consent.inquiry.email", "consent.inquiry.name"])

    def test_it_records_no_consent_shown_before_the_widening_and_covers_the_new_category_with_a_fresh_one_d1(
        self,
    ) -> None:
        consent: dict[str, Any] = {
            "subject": self.person,
            "agency": self.minburi,
            "purpose": "opinion_surveys",
            "channel": "web",
            "recipient": processing.consent_key(self.partner),
            "minor": False,
        }
        self.widen_partner_to_messages()
        with self.assertRaises(ConsentOutdatedError):
            grant_consent(**consent, shown=["name", "email"])
        self.assertFalse(Consent.objects.filter(subject=self.person).exists())
        granted = grant_consent(**consent, shown=["message", "email", "name"])
        self.assertEqual(granted.categories, ["name", "email", "message"])
        self.assertEqual(granted.events.get().categories, ["name", "email", "message"])
        self.disclose_fields(["consent.inquiry.name", "consent.inquiry.message"])
        withdraw_consent(**{k: v for k, v in consent.items() if k != "minor"})
        self.assertEqual(Consent.objects.get(pk=granted.pk).categories, [], "a withdrawn consent covers nothing")

    def test_it_takes_neither_the_agencys_own_consent_nor_another_recipients_for_this_one_d1(self) -> None:
        grant_consent(
            subject=self.person,
            agency=self.minburi,
            purpose="opinion_surveys",
            channel="web",
            minor=False,
            email="malee@example.org",
        )
        other = Recipient.objects.create(
            agency=self.minburi,
            slug="stats-office",
            name_th="สำนักงานสถิติ",
            name_en="Statistics office",
            kind=RecipientKind.AGENCY,
            purposes=["opinion_surveys"],
            fields=["consent.inquiry.name"],
        )
        publish_policy(self.minburi)
        grant_consent(
            subject=self.person,
            agency=self.minburi,
            purpose="opinion_surveys",
            channel="web",
            minor=False,
            recipient=processing.consent_key(other),
        )
        with self.assertRaises(actions.DisclosureRefusedError):
            self.disclose(ConsentBasis())
        self.assertEqual(self.denials(), 1)

    def test_it_refuses_a_recipient_the_policy_in_force_does_not_cover_until_it_is_republished_d1(self) -> None:
        court = Recipient.objects.create(
            agency=self.minburi,
            slug="civil-court",
            name_th="ศาลแพ่ง",
            name_en="Civil Court",
            kind=RecipientKind.COURT,
            purposes=["rights_requests"],
            fields=["consent.inquiry.name"],
        )
        pending = policies.pending_changes(self.minburi)
        self.assertEqual({item.activity for item in pending}, {"disclosures.recipient:civil-court"})
        self.assertIn("ศาลแพ่ง (Civil Court)", pending[0].recipients)
        order: dict[str, Any] = {
            "subject": self.person,
            "recipient": court,
            "purpose": "rights_requests",
            "actor": self.dpo,
        }
        with self.assertRaises(actions.DisclosureRefusedError):
            actions.disclose(**order, fields=["consent.inquiry.name"], basis=court_order())
        self.assertEqual(self.denials(), 1)
        publish_policy(self.minburi)
        self.assertEqual(policies.pending_changes(self.minburi), [])
        current = policies.current_policy(self.minburi)
        assert current is not None
        self.assertIn("ศาลแพ่ง (Civil Court)", current.markdown_th)
        actions.disclose(**order, fields=["consent.inquiry.name"], basis=court_order())
        # Gaining a field is a change of its own: pending again, and refused until published.
        Recipient.objects.filter(pk=court.pk).update(fields=["consent.inquiry.name", "consent.inquiry.email"])
        court.refresh_from_db()
        self.assertEqual([item.category for item in policies.pending_changes(self.minburi)], ["email"])
        with self.assertRaises(actions.DisclosureRefusedError):
            actions.disclose(**order, fields=["consent.inquiry.email"], basis=court_order())

    def test_it_refuses_consent_basis_without_consent_and_audits_it_d1(self) -> None:
        with self.assertRaises(actions.DisclosureRefusedError):
            self.disclose(ConsentBasis())
        self.assertEqual(Disclosure.objects.count(), 0)
        self.assertEqual(self.denials(), 1)

    def test_it_refuses_while_the_person_restricted_processing_except_under_an_order_d1(self) -> None:
        self.consent_to_partner()
        limit_processing(
            subject=self.person, kind=LimitKind.RESTRICTION, purposes=[ALL], reference=uuid.uuid4(), actor=None
        )
        with self.assertRaisesMessage(actions.DisclosureRefusedError, "มาตรา 32, 34"):
            self.disclose(ConsentBasis())
        with self.assertRaises(actions.DisclosureRefusedError):
            self.disclose(RequestBasis(f"consent.inquiry:{self.inquiry.pk}"))
        self.assertEqual(self.denials(), 2)
        self.assertEqual(self.disclose(court_order()).basis, Basis.LEGAL)  # a legal duty still applies

    def test_it_discloses_for_the_persons_own_request_d1(self) -> None:
        disclosure = self.disclose(RequestBasis(f"consent.inquiry:{self.inquiry.pk}"), purpose="rights_requests")
        self.assertEqual(disclosure.transaction_reference, f"consent.inquiry:{self.inquiry.pk}")

    def test_it_refuses_a_request_that_is_not_the_persons_d1(self) -> None:
        someone_else = inquiry(self.minburi, Subject.objects.create())
        for reference in (
            f"consent.inquiry:{someone_else.pk}",
            "consent.inquiry:not-a-uuid",
            f"services.registration:{self.inquiry.pk}",
            f"consent.consent:{self.inquiry.pk}",
        ):
            with self.subTest(reference), self.assertRaises(actions.DisclosureRefusedError):
                self.disclose(RequestBasis(reference), purpose="rights_requests")
        self.assertEqual(self.denials(), 4)

    def test_it_discloses_under_an_order_with_its_document_sealed_d1(self) -> None:
        disclosure = self.disclose(court_order(), purpose="rights_requests")
        self.assertEqual((disclosure.issuing_authority, disclosure.basis), ("ศาลแพ่ง", Basis.LEGAL))
        stored = Disclosure.objects.values_list("document", flat=True).get()
        self.assertIsNotNone(stored)
        self.assertNotIn(b"court order", bytes(stored or b""))

    def test_it_accepts_an_official_information_act_s24_case_and_refuses_an_unknown_one_d1(self) -> None:
        police = court_order(reference="หนังสือ สน.มีนบุรี ที่ 0015/2569", issuing_authority="สน.มีนบุรี")
        self.assertEqual(self.disclose(LegalDuty(**{**police.__dict__, "oia_section": "24(6)"})).oia_section, "24(6)")
        with self.assertRaises(actions.DisclosureRefusedError):
            self.disclose(LegalDuty(**{**police.__dict__, "oia_section": "24(10)"}))

    def test_it_refuses_an_order_without_its_evidence_d1(self) -> None:
        for missing in ({"document": b""}, {"issuing_authority": " "}, {"reference": ""}):
            with self.subTest(missing), self.assertRaises(actions.DisclosureRefusedError):
                self.disclose(court_order(**missing))
        self.assertEqual(Disclosure.objects.count(), 0)

    def test_it_refuses_fields_and_purposes_outside_the_register_d1(self) -> None:
        with self.assertRaises(actions.DisclosureRefusedError):
            actions.disclose(
                subject=self.person,
                recipient=self.partner,
                purpose="rights_requests",
                fields=["consent.inquiry.message"],
                basis=court_order(),
                actor=self.dpo,
            )
        with self.assertRaises(actions.DisclosureRefusedError):
            self.disclose(court_order(), purpose="news_and_pr")

    def test_it_refuses_marketing_with_every_basis_d2(self) -> None:
        self.consent_to_partner()
        for basis in (ConsentBasis(), RequestBasis(f"consent.inquiry:{self.inquiry.pk}"), court_order()):
            with self.subTest(basis), self.assertRaises(actions.MarketingRefusedError):
                self.disclose(basis, purpose="marketing")
        self.assertEqual(Disclosure.objects.count(), 0)
        self.assertEqual(self.denials("disclosures.marketing_refused"), 3)

    def test_it_shows_the_ledger_to_the_person_and_hides_a_held_line_until_its_date_d1(self) -> None:
        today = timezone.localdate()
        shown = self.disclose(RequestBasis(f"consent.inquiry:{self.inquiry.pk}"), purpose="rights_requests")
        held = self.disclose(court_order(), purpose="rights_requests", hold_until=today + timedelta(days=30))
        self.assertEqual(actions.ledger_for(self.person), [shown])
        self.assertEqual(set(actions.ledger_for(self.person, on=today + timedelta(days=30))), {shown, held})
        self.assertEqual(actions.ledger_for(Subject.objects.create()), [])


class ProcessorExportTests(TestCase):
    databases = "__all__"
    minburi: Agency
    most: Agency
    contractor: User
    people: list[Subject]
    post: Recipient

    @classmethod
    def setUpTestData(cls) -> None:
        cls.minburi = demo.load_organisations()[1]
        cls.most = Agency.objects.exclude(controller=cls.minburi.controller).get()
        cls.contractor = personas.staff("post.worker", agency=cls.minburi, role=StaffRole.CONTRACTOR)
        cls.people = [Subject.objects.create() for _ in range(3)]
        for number, person in enumerate(cls.people):
            inquiry(cls.minburi, person, name=f"คนที่ {number}", email=f"p{number}@example.org")
        # Another controller's person is never in Minburi's export.
        inquiry(cls.most, Subject.objects.create(), name="คนนอก", email="outsider@example.org")
        cls.post = thai_post(cls.minburi, contract_expires=timezone.localdate() + timedelta(days=10))
        cls.post.accounts.add(cls.contractor)
        publish_policy(cls.minburi)

    def export(self, recipient: Recipient | None = None, actor: User | None = None) -> str:
        _export, token = actions.prepare_export(
            recipient=recipient or self.post, purpose="contact", store="consent.inquiry", actor=actor or self.contractor
        )
        return token

    def test_it_exports_exactly_the_contract_fields_as_disclosures_u3(self) -> None:
        _export, content = actions.download_export(token=self.export(), actor=self.contractor)
        rows = list(csv.reader(io.StringIO(content)))
        self.assertEqual(rows[0], ["person", "name"])
        self.assertEqual(sorted(row[1] for row in rows[1:]), ["คนที่ 0", "คนที่ 1", "คนที่ 2"])
        self.assertNotIn("example.org", content)
        self.assertNotIn("คนนอก", content)
        self.assertEqual(
            set(Disclosure.objects.filter(basis=Basis.PROCESSOR).values_list("subject_id", flat=True)),
            {person.pk for person in self.people},
        )
        self.assertEqual(actions.ledger_for(self.people[0])[0].recipient, self.post)

    def test_it_leaves_out_a_person_who_objected_to_being_contacted_u3(self) -> None:
        limit_processing(
            subject=self.people[0], kind=LimitKind.OBJECTION, purposes=["contact"], reference=uuid.uuid4(), actor=None
        )
        _export, content = actions.download_export(token=self.export(), actor=self.contractor)
        self.assertNotIn("คนที่ 0", content)
        self.assertIn("คนที่ 1", content)
        self.assertFalse(Disclosure.objects.filter(subject=self.people[0]).exists())

    def test_it_serves_a_link_once_and_never_after_it_expires_u3(self) -> None:
        token = self.export()
        actions.download_export(token=token, actor=self.contractor)
        with self.assertRaises(actions.ExportRefusedError):
            actions.download_export(token=token, actor=self.contractor)
        late = self.export()
        Export.objects.filter(downloaded_at__isnull=True).update(expires_at=timezone.now() - timedelta(seconds=1))
        with self.assertRaises(actions.ExportRefusedError):
            actions.download_export(token=late, actor=self.contractor)
        self.assertFalse(Export.objects.filter(token_hash=late).exists())  # only hashes are kept

    def test_it_stops_exports_once_the_contract_expires_u3(self) -> None:
        token = self.export()
        Recipient.objects.filter(pk=self.post.pk).update(contract_expires=timezone.localdate() - timedelta(days=1))
        self.post.refresh_from_db()
        with self.assertRaises(actions.ExportRefusedError):
            actions.download_export(token=token, actor=self.contractor)
        with self.assertRaises(actions.ExportRefusedError):
            self.export()
        self.assertEqual(Disclosure.objects.count(), 0)
        self.assertTrue(AuditEntry.objects.filter(action="disclosures.export_refused", outcome=Outcome.DENIED).exists())

    def test_it_refuses_accounts_that_are_not_the_processors_contractors_u3(self) -> None:
        officer = personas.staff("officer.x", agency=self.minburi, role=StaffRole.OFFICER)
        self.post.accounts.add(officer)
        with self.assertRaises(actions.ExportRefusedError):
            self.export(actor=officer)
        token = self.export()
        with self.assertRaises(actions.ExportRefusedError):
            actions.download_export(token=token, actor=officer)

    def test_it_pseudonymises_a_statistics_export_and_refuses_direct_identifiers_u3(self) -> None:
        stats = Recipient.objects.create(
            agency=self.minburi,
            slug="stats-lab",
            name_th="ห้องปฏิบัติการสถิติ",
            name_en="Statistics lab",
            kind=RecipientKind.PROCESSOR,
            purposes=["contact"],
            fields=["consent.inquiry.message"],
            pseudonymised=True,
        )
        stats.accounts.add(self.contractor)
        publish_policy(self.minburi)
        _export, content = actions.download_export(token=self.export(stats), actor=self.contractor)
        for person in self.people:
            self.assertNotIn(str(person.pk), content)
        self.assertEqual(content.count("ขอทราบข้อมูล"), 3)
        stats.fields = ["consent.inquiry.name"]
        stats.save()
        with self.assertRaises(actions.ExportRefusedError):
            self.export(stats)


class BreachTests(TestCase):
    databases = "__all__"
    most: Agency
    minburi: Agency
    dpo: User

    @classmethod
    def setUpTestData(cls) -> None:
        cls.most, cls.minburi = demo.load_organisations()
        cls.dpo = personas.staff("dpo.b", agency=cls.minburi, role=StaffRole.DPO)
        for _ in range(3):
            inquiry(cls.minburi, Subject.objects.create())
        inquiry(cls.most, Subject.objects.create())

    def record(self, hours_ago: float, categories: list[str], risk: str = RiskLevel.HIGH) -> Breach:
        return actions.record_breach(
            agency=self.minburi,
            discovered_at=timezone.now() - timedelta(hours=hours_ago),
            description="เครื่องคอมพิวเตอร์ที่มีไฟล์ส่งออกสูญหาย",
            categories=categories,
            risk=risk,
            actor=self.dpo,
        )

    def test_it_counts_the_people_affected_from_the_registrys_stores_s1(self) -> None:
        self.assertEqual(self.record(1, ["name"]).affected_count, 3)
        self.assertEqual(self.record(1, ["health"]).affected_count, 0)
        inquiry(self.minburi, Subject.objects.create())
        self.assertEqual(self.record(1, ["email", "name"]).affected_count, 4)

    def test_it_shows_the_hours_left_of_the_72_to_notify_the_pdpc_s1(self) -> None:
        self.assertEqual(self.record(70.5, ["name"]).hours_left, 1)
        self.assertLess(self.record(73, ["name"]).hours_left, 0)
        breach = self.record(1, ["name"])
        self.assertEqual(breach.pdpc_deadline, breach.discovered_at + timedelta(hours=72))

    def test_it_keeps_a_timeline_and_when_the_pdpc_was_notified_s1(self) -> None:
        breach = self.record(2, ["name"])
        actions.add_breach_action(breach=breach, note="แจ้ง สคส. แล้ว", actor=self.dpo, pdpc_notified=True)
        breach.refresh_from_db()
        self.assertIsNotNone(breach.pdpc_notified_at)
        self.assertEqual(breach.timeline.count(), 2)


class RecordOfProcessingTests(TestCase):
    databases = "__all__"
    minburi: Agency

    @classmethod
    def setUpTestData(cls) -> None:
        cls.minburi = demo.load_organisations()[1]

    def test_it_has_the_eight_items_of_s39(self) -> None:
        rows = ropa.build(self.minburi)
        self.assertEqual({row.item for row in rows}, set(range(1, 9)))
        self.assertTrue(any("e-mail address" in row.text_en for row in rows if row.item == 1))

    def test_it_follows_the_configuration_when_a_recipient_is_added_d1(self) -> None:
        before = [row.text_en for row in ropa.build(self.minburi) if row.item == 6]
        thai_post(self.minburi)
        after = [row.text_en for row in ropa.build(self.minburi) if row.item == 6]
        self.assertFalse(any("Thailand Post" in text for text in before))
        self.assertTrue(any("Thailand Post" in text and "consent.inquiry.name" in text for text in after))
