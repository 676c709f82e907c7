import base64
import csv
import io
import subprocess
import tempfile
from datetime import timedelta
from pathlib import Path
from shutil import which
from typing import Any
from unittest import skipUnless

from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import TestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.text import slugify

from raksa.audit.models import AuditEntry, Outcome
from raksa.consent.actions import grant_consent, has_live_consent
from raksa.consent.models import Consent, Inquiry
from raksa.core import demo
from raksa.disclosures import actions, processing
from raksa.disclosures.models import Breach, Disclosure, Recipient, RecipientKind, RiskLevel
from raksa.disclosures.tests.fixtures import court_order, inquiry, publish_policy, thai_post
from raksa.organisations.models import Agency, StaffRole
from raksa.subjects.models import Subject
from raksa.testing import accounts as personas

LOGIN = "/th/accounts/login/"
SECOND_STEP = "/th/accounts/login/second-factor/"


class StaffViewTests(TestCase):
    databases = "__all__"
    minburi: Agency
    people: list[Subject]
    post: Recipient

    @classmethod
    def setUpTestData(cls) -> None:
        cls.minburi = demo.load_organisations()[1]
        cls.people = [Subject.objects.create() for _ in range(2)]
        for person in cls.people:
            inquiry(cls.minburi, person)
        cls.post = thai_post(cls.minburi, contract_expires=timezone.localdate() + timedelta(days=5))
        publish_policy(cls.minburi)

    def sign_in(self, username: str, role: str) -> None:
        user = personas.staff(username, agency=self.minburi, role=role)
        if role == StaffRole.CONTRACTOR:
            self.post.accounts.add(user)
        device = personas.with_totp(user)
        self.client.post(LOGIN, {"identifier": username, "password": personas.PASSWORD})
        self.client.post(SECOND_STEP, {"code": personas.totp_code(device)})

    def test_it_lets_a_contractor_download_the_export_once_by_a_token_never_in_a_url_u3(self) -> None:
        self.sign_in("post.worker", StaffRole.CONTRACTOR)
        page = self.client.get("/th/processor/")
        self.assertContains(page, "ไปรษณีย์ไทย")
        ready = self.client.post("/th/processor/thai-post/export/", {"purpose": "contact", "store": "consent.inquiry"})
        token = ready.context["token"]
        self.assertNotIn(token, ready.wsgi_request.get_full_path())
        download = self.client.post("/th/processor/download/", {"token": token})
        self.assertEqual(download.status_code, 200)
        rows = list(csv.reader(io.StringIO(download.content.decode())))
        self.assertEqual(rows[0], ["person", "name"])
        self.assertEqual(len(rows), 3)
        self.assertEqual(self.client.post("/th/processor/download/", {"token": token}).status_code, 404)

    def test_it_keeps_a_contractor_out_of_the_dpo_console_u3(self) -> None:
        self.sign_in("post.worker", StaffRole.CONTRACTOR)
        self.assertEqual(self.client.get("/th/dpo/disclosures/").status_code, 404)

    def test_it_shows_the_dpo_the_registers_and_the_breach_clock_s1(self) -> None:
        self.sign_in("dpo.m", StaffRole.DPO)
        response = self.client.post(
            "/th/dpo/breaches/new/",
            {
                "discovered_at": (timezone.localtime() - timedelta(hours=10)).strftime("%Y-%m-%dT%H:%M"),
                "description": "ส่งไฟล์ผิดผู้รับ",
                "categories": ["name"],
                "risk": RiskLevel.HIGH,
            },
        )
        breach = Breach.objects.get()
        self.assertRedirects(response, f"/th/dpo/breaches/{breach.pk}/")
        page = self.client.get(f"/th/dpo/breaches/{breach.pk}/", HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(breach.affected_count, 2)
        self.assertContains(page, str(breach.hours_left))
        # High risk: a draft report for the PDPC and a draft letter for the people affected.
        self.assertEqual(page.content.count(b'<pre class="draft">'), 2)
        console = self.client.get("/th/dpo/disclosures/")
        self.assertContains(console, "ไปรษณีย์ไทย")

    def test_it_downloads_the_record_of_processing_as_csv_in_thai_and_english(self) -> None:
        self.sign_in("dpo.m", StaffRole.DPO)
        thai = self.client.get("/th/dpo/ropa/th.csv").content.decode()
        english = self.client.get("/th/dpo/ropa/en.csv").content.decode()
        self.assertIn("ข้อมูลส่วนบุคคลที่มีการเก็บรวบรวม", thai)
        self.assertIn("Security measures under s37(1)", english)
        self.assertIn("ไปรษณีย์ไทย", thai)

    def test_it_renders_the_record_of_processing_pdf_with_thai_text(self) -> None:
        self.sign_in("dpo.m", StaffRole.DPO)
        response = self.client.get("/th/dpo/ropa/th.pdf")
        self.assertEqual(response["Content-Type"], "application/pdf")
        self.assertTrue(response.content.startswith(b"%PDF"))
        self.assertIn(b"Sarabun", response.content)
        self.assertEqual(self.client.get("/th/dpo/ropa/th.docx").status_code, 404)


@skipUnless(which("pdftotext"), "poppler-utils (pdftotext) is not installed")
class PdfTextTests(TestCase):
    databases = "__all__"

    def test_it_writes_thai_that_a_pdf_reader_extracts(self) -> None:
        from raksa.disclosures import ropa
        from raksa.disclosures.pdf import as_pdf

        rows = ropa.build(demo.load_organisations()[1])
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "ropa.pdf"
            path.write_bytes(as_pdf(rows, language="th", title="บันทึกรายการ", on=timezone.localdate()))
            text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
        self.assertIn("บันทึกรายการ", text)
        self.assertIn("ระยะเวลาการเก็บรักษา", text)


class LedgerPageTests(TestCase):
    databases = "__all__"

    def test_it_shows_the_person_their_ledger_without_held_lines_d1(self) -> None:
        minburi = demo.load_organisations()[1]
        citizen = personas.citizen()
        subject = citizen.subject
        assert subject is not None
        recipient = Recipient.objects.create(
            agency=minburi,
            slug="court",
            name_th="ศาลแพ่ง",
            name_en="Civil Court",
            kind=RecipientKind.COURT,
            purposes=["rights_requests"],
            fields=["consent.inquiry.name"],
        )
        inquiry(minburi, subject)
        publish_policy(minburi)
        held_order = b"%PDF-1.4 sealed order of an investigation"
        for reference, hold, document in (
            ("คำสั่ง 1/2569", None, b"%PDF-1.4 order"),
            ("คำสั่งลับ 2/2569", timezone.localdate() + timedelta(days=9), held_order),
        ):
            actions.disclose(
                subject=subject,
                recipient=recipient,
                purpose="rights_requests",
                fields=["consent.inquiry.name"],
                basis=court_order(reference=reference, document=document),
                actor=None,
                hold_until=hold,
            )
        self.client.force_login(citizen)
        page = self.client.get("/th/me/disclosures/")
        self.assertContains(page, "คำสั่ง 1/2569")
        self.assertNotContains(page, "คำสั่งลับ 2/2569")
        # My data embeds the same ledger, and its list of stores leaves out the held line's order too.
        my_data = self.client.get("/en/me/data/")
        self.assertContains(my_data, "Who received your data")
        self.assertContains(my_data, "คำสั่ง 1/2569")
        self.assertContains(my_data, "name")
        self.assertNotContains(my_data, "คำสั่งลับ 2/2569")
        self.assertNotContains(my_data, base64.b64encode(held_order).decode())
        self.assertEqual(Disclosure.objects.count(), 2)
        self.client.logout()
        self.assertEqual(self.client.get("/th/me/disclosures/").status_code, 404)

    def test_it_writes_the_stores_escaped_and_runs_the_pages_context_processors_once(self) -> None:
        minburi = demo.load_organisations()[1]
        citizen = personas.citizen()
        assert citizen.subject is not None
        inquiry(minburi, citizen.subject, name="<b>มาลี</b> & co")
        self.client.force_login(citizen)
        with CaptureQueriesContext(connection) as read:
            page = self.client.get("/th/me/data/")
        self.assertContains(page, "&lt;b&gt;มาลี&lt;/b&gt; &amp; co")
        self.assertNotContains(page, "<b>มาลี</b>")
        self.assertContains(page, '<section data-store="consent.inquiry">')
        self.assertContains(page, "ไม่มีข้อมูล")  # "Nothing held." for a store without rows, in Thai
        self.assertContains(page, "ใครได้รับข้อมูลของท่าน")
        # The ledger section is rendered without the request: the footer's and the policy banner's
        # reads happen once for the page, not again for the section.
        appearance = [query for query in read.captured_queries if "content_siteappearance" in query["sql"]]
        self.assertEqual(len(appearance), 1)


class RecipientConsentPageTests(TestCase):
    """A person consents to one recipient for one purpose on their consents page, and withdraws it there."""

    databases = "__all__"

    def health_centre(self, agency: Agency, purposes: tuple[str, ...] = ("opinion_surveys", "marketing")) -> Recipient:
        return Recipient.objects.create(
            agency=agency,
            slug="health-centre",
            name_th="ศูนย์บริการสาธารณสุข",
            name_en="Public health centre",
            kind=RecipientKind.AGENCY,
            purposes=list(purposes),
            fields=["consent.inquiry.name", "consent.inquiry.email"],
        )

    def test_it_offers_each_recipient_and_purpose_separately_and_withdraws_at_once_d1(self) -> None:
        minburi = demo.load_organisations()[1]
        citizen = personas.citizen()
        subject = citizen.subject
        assert subject is not None
        health = self.health_centre(minburi)
        thai_post(minburi)  # a processor: it works for the agency and is never a consent choice
        publish_policy(minburi)
        key = processing.consent_key(health)
        self.client.force_login(citizen)
        page = self.client.get("/en/consents/")
        self.assertContains(page, "Disclose to Public health centre for opinion surveys")
        self.assertContains(page, f'value="{key}"')
        self.assertNotContains(page, "Thailand Post")
        self.assertNotContains(page, "for marketing")
        anchor = f"minburi-opinion_surveys-{slugify(key)}"
        chosen = {"agency": "minburi", "purpose": "opinion_surveys", "recipient": key}
        response = self.client.post(
            "/th/consents/grant/", {**chosen, "categories": "name,email", f"{anchor}-age_group": "adult"}
        )
        self.assertRedirects(response, f"/th/consents/#{anchor}")
        consent: dict[str, Any] = {"subject": subject, "agency": minburi, "purpose": "opinion_surveys"}
        self.assertTrue(has_live_consent(**consent, recipient=key))
        self.assertFalse(has_live_consent(**consent), "the agency's own consent is a separate choice")
        disclose: dict[str, Any] = {
            "subject": subject,
            "recipient": health,
            "purpose": "opinion_surveys",
            "fields": ["consent.inquiry.name"],
            "actor": None,
        }
        actions.disclose(**disclose, basis=actions.ConsentBasis())
        self.client.post("/th/consents/withdraw/", chosen)
        self.assertFalse(has_live_consent(**consent, recipient=key))
        with self.assertRaises(actions.DisclosureRefusedError):
            actions.disclose(**disclose, basis=actions.ConsentBasis())
        self.assertContains(self.client.get("/en/consents/"), "withdrawn")
        marketing = {**chosen, "purpose": "marketing", "minburi-marketing-disclosuresrecipient1-age_group": "adult"}
        self.assertEqual(self.client.post("/th/consents/grant/", marketing).status_code, 404)

    @override_settings(RAKSA_PUBLIC_PAGE_SECONDS=30)
    def test_it_reads_each_agencys_offers_once_per_public_page_lifetime_and_checks_a_choice_live_d1(self) -> None:
        cache.clear()
        self.addCleanup(cache.clear)
        minburi = demo.load_organisations()[1]
        citizen = personas.citizen()
        health = self.health_centre(minburi, purposes=("opinion_surveys",))
        publish_policy(minburi)
        self.client.force_login(citizen)
        self.client.get("/en/consents/")
        with CaptureQueriesContext(connection) as second:
            page = self.client.get("/en/consents/")
        self.assertContains(page, "Disclose to Public health centre for opinion surveys")
        read = [q["sql"] for q in second.captured_queries]
        self.assertFalse([sql for sql in read if "disclosures_recipient" in sql or "services_servicefield" in sql])
        # The page may show an offer for up to RAKSA_PUBLIC_PAGE_SECONDS after it ended; a choice
        # posted from it is checked against the configuration as it is now.
        health.purposes = ["marketing"]
        health.save()
        key = processing.consent_key(health)
        anchor = f"minburi-opinion_surveys-{slugify(key)}"
        chosen = {"agency": "minburi", "purpose": "opinion_surveys", "recipient": key, f"{anchor}-age_group": "adult"}
        self.assertContains(self.client.get("/en/consents/"), "Disclose to Public health centre for opinion surveys")
        self.assertEqual(self.client.post("/en/consents/grant/", chosen).status_code, 404)

    @override_settings(RAKSA_PUBLIC_PAGE_SECONDS=30)
    def test_it_records_nothing_from_a_page_shown_before_the_recipient_widened_and_asks_to_look_again_d1(self) -> None:
        cache.clear()
        self.addCleanup(cache.clear)
        minburi = demo.load_organisations()[1]
        citizen = personas.citizen()
        health = self.health_centre(minburi, purposes=("opinion_surveys",))
        key = processing.consent_key(health)
        anchor = f"minburi-opinion_surveys-{slugify(key)}"
        self.client.force_login(citizen)
        shown = self.client.get("/th/consents/")
        self.assertContains(shown, '<input type="hidden" name="categories" value="name,email">', html=False)
        # The DPO widens the register while the page (and its kept offers) is still in front of the person.
        health.fields = [*health.fields, "consent.inquiry.message"]
        health.save()
        chosen = {
            "agency": "minburi",
            "purpose": "opinion_surveys",
            "recipient": key,
            "categories": "name,email",
            f"{anchor}-age_group": "minor",
            f"{anchor}-guardian_consents": "on",
        }
        stale = self.client.post("/th/consents/grant/", chosen)
        self.assertContains(stale, "เปลี่ยนไป", status_code=409)
        self.assertContains(stale, 'value="name,email,message"', status_code=409)
        self.assertContains(stale, "ข้อความที่ส่งถึงหน่วยงาน", status_code=409)
        self.assertContains(stale, f'id="id_{anchor}-age_group_1" checked', status_code=409)
        self.assertFalse(Consent.objects.filter(subject=citizen.subject).exists(), "nothing is saved")
        english = self.client.post("/en/consents/grant/", chosen)
        self.assertContains(english, "has changed since the page was shown", status_code=409)
        fresh = self.client.post("/th/consents/grant/", {**chosen, "categories": "name,email,message"})
        self.assertRedirects(fresh, f"/th/consents/#{anchor}")
        consent = Consent.objects.get(subject=citizen.subject, recipient=key)
        self.assertEqual(consent.categories, ["name", "email", "message"])
        self.assertContains(self.client.get("/en/consents/"), "Your consent covers: name, e-mail address")

    def test_it_shows_what_a_consent_covers_and_offers_a_new_one_when_the_recipient_widens_d1(self) -> None:
        minburi = demo.load_organisations()[1]
        citizen = personas.citizen()
        health = self.health_centre(minburi, purposes=("opinion_surveys",))
        key = processing.consent_key(health)
        assert citizen.subject is not None
        grant_consent(
            subject=citizen.subject,
            agency=minburi,
            purpose="opinion_surveys",
            recipient=key,
            channel="web",
            minor=False,
        )
        health.fields = [*health.fields, "consent.inquiry.message"]
        health.save()
        self.client.force_login(citizen)
        with CaptureQueriesContext(connection) as read:
            page = self.client.get("/en/consents/")
        self.assertContains(page, "Your consent covers: name, e-mail address")
        self.assertContains(page, "now registered to receive more: messages sent to the agency")
        self.assertContains(page, "it covered: name, e-mail address")
        self.assertContains(page, "Withdraw consent")
        self.assertContains(page, 'value="name,email,message"')
        self.assertFalse([q for q in read.captured_queries if "consent_consentevent" in q["sql"]][1:])


class DiscloseScreenTests(TestCase):
    """The DPO records a disclosure on the site: find the person, choose the recipient and the basis (D1, D2)."""

    databases = "__all__"
    minburi: Agency
    person: Subject
    inquiry: Inquiry
    health: Recipient

    @classmethod
    def setUpTestData(cls) -> None:
        cls.minburi = demo.load_organisations()[1]
        cls.person = Subject.objects.create()
        cls.inquiry = inquiry(cls.minburi, cls.person, email="malee@example.org")
        cls.health = Recipient.objects.create(
            agency=cls.minburi,
            slug="health-centre",
            name_th="ศูนย์บริการสาธารณสุข",
            name_en="Public health centre",
            kind=RecipientKind.AGENCY,
            purposes=["rights_requests", "opinion_surveys", "marketing"],
            fields=["consent.inquiry.name", "consent.inquiry.email"],
        )
        publish_policy(cls.minburi)

    def setUp(self) -> None:
        user = personas.staff("dpo.m", agency=self.minburi, role=StaffRole.DPO)
        device = personas.with_totp(user)
        self.client.post(LOGIN, {"identifier": "dpo.m", "password": personas.PASSWORD})
        self.client.post(SECOND_STEP, {"code": personas.totp_code(device)})

    def step(self, step: str, language: str = "en", **data: object) -> Any:
        return self.client.post(f"/{language}/dpo/disclosures/new/", {"step": step, **data})

    def disclose(self, language: str = "en", **data: object) -> Any:
        form = {
            "subject": str(self.person.pk),
            "recipient": "health-centre",
            "purpose": "rights_requests",
            "disclosed_fields": ["consent.inquiry.name"],
            **data,
        }
        return self.step("disclose", language, **form)

    def test_it_finds_the_person_by_a_value_sent_in_the_body_and_audits_the_search_d1(self) -> None:
        found = self.step("find", kind="email", value="  Malee@Example.org ")
        self.assertNotIn("malee", found.wsgi_request.get_full_path().lower())
        self.assertContains(found, str(self.person.pk))
        self.assertContains(found, self.inquiry.reference)
        search = AuditEntry.objects.get(action="disclosures.person_lookup")
        self.assertEqual((search.subject_id, search.fields), (self.person.pk, "email"))
        self.assertNotIn("malee", str(AuditEntry.objects.values_list().filter(pk=search.pk)).lower())
        self.assertContains(self.step("find", kind="email", value="nobody@example.org"), "No one at this agency")

    def test_it_records_a_disclosure_under_an_order_with_its_uploaded_document_d1(self) -> None:
        order = SimpleUploadedFile("order.pdf", b"%PDF-1.4 court order", content_type="application/pdf")
        response = self.disclose(
            basis="legal",
            legal_reference="คำสั่งศาลแพ่ง ที่ 123/2569",
            issuing_authority="ศาลแพ่ง",
            order_date="2026-11-01",
            oia_section="24(8)",
            document=order,
        )
        disclosure = Disclosure.objects.get()
        self.assertRedirects(response, f"/en/dpo/disclosures/{disclosure.pk}/")
        self.assertEqual((disclosure.basis, disclosure.document_name), ("legal", "order.pdf"))
        self.assertNotIn(b"court order", bytes(Disclosure.objects.values_list("document", flat=True).get() or b""))
        self.assertContains(self.client.get(f"/en/dpo/disclosures/{disclosure.pk}/"), "ศาลแพ่ง")
        self.assertContains(self.client.get("/en/dpo/disclosures/"), "Public health centre")

    def test_it_records_a_disclosure_for_the_persons_own_question_d1(self) -> None:
        chosen = self.step("choose", subject=str(self.person.pk))
        reference = f"consent.inquiry:{self.inquiry.pk}"
        self.assertContains(chosen, f'value="{reference}"')
        self.disclose(basis="request", transaction=reference)
        self.assertEqual(Disclosure.objects.get().transaction_reference, reference)

    def test_it_asks_field_by_field_for_the_evidence_of_an_order_and_keeps_nothing_d1(self) -> None:
        response = self.disclose(language="th", basis="legal", legal_reference="คำสั่ง 1/2569")
        self.assertEqual(response.status_code, 400)
        for name in ("issuing_authority", "order_date", "document"):
            self.assertIn(name, response.context["form"].errors)
        fake = SimpleUploadedFile("order.pdf", b"MZ not a pdf")
        response = self.disclose(
            basis="legal", legal_reference="x", issuing_authority="y", order_date="2026-11-01", document=fake
        )
        self.assertContains(response, "PDF, PNG or JPEG", status_code=400)
        self.assertFalse(Disclosure.objects.exists())

    def test_it_shows_a_refusal_without_consent_and_audits_it_d1(self) -> None:
        response = self.disclose(basis="consent", purpose="opinion_surveys")
        self.assertContains(response, "Refused: nothing was disclosed", status_code=403)
        self.assertContains(response, "no live consent to this recipient", status_code=403)
        self.assertFalse(Disclosure.objects.exists())
        self.assertTrue(AuditEntry.objects.filter(action="disclosures.refused", outcome=Outcome.DENIED))

    def test_it_refuses_marketing_whatever_the_basis_and_audits_it_d2(self) -> None:
        reference = f"consent.inquiry:{self.inquiry.pk}"
        for basis in ({"basis": "consent"}, {"basis": "request", "transaction": reference}):
            response = self.disclose(purpose="marketing", **basis)
            self.assertContains(response, "Marketing", status_code=403)
        self.assertFalse(Disclosure.objects.exists())
        self.assertEqual(AuditEntry.objects.filter(action="disclosures.marketing_refused").count(), 2)

    def test_it_gives_404_for_a_person_the_agency_holds_nothing_of_d1(self) -> None:
        stranger = Subject.objects.create()
        self.assertEqual(self.step("choose", subject=str(stranger.pk)).status_code, 404)
        self.assertEqual(self.step("choose", subject="not-a-uuid").status_code, 404)
        most = Agency.objects.exclude(pk=self.minburi.pk).get()
        outsider = Subject.objects.create()
        inquiry(most, outsider)
        self.assertEqual(self.step("choose", subject=str(outsider.pk)).status_code, 404)
