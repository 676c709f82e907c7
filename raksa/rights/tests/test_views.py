"""The person's pages (re-authentication, closing the account, corrections, consent withdrawal) and the
DPO's and officers' pages (queue, assignment, identity, answers, extensions, rectification)."""

import socket
import time
import uuid
from collections.abc import Iterable
from datetime import timedelta
from typing import Any
from unittest.mock import patch

from django.db import transaction
from django.test import Client, TestCase, override_settings
from django.urls import reverse
from django.utils import timezone

from raksa.accounts.addresses import store as store_email
from raksa.accounts.models import User
from raksa.accounts.sessions import STARTED
from raksa.audit.models import AuditEntry
from raksa.consent.actions import grant_consent
from raksa.consent.models import Channel, Consent
from raksa.disclosures import ropa
from raksa.organisations.models import Agency, StaffMembership, StaffRole
from raksa.registry import ERASURE_NOTICE, registry
from raksa.retention.models import KeyStoreWork
from raksa.rights import actions, notices
from raksa.rights.models import ErasureNotice, Export, RequestType, RightsRequest, Status
from raksa.services.tests import builders
from raksa.services.tests.builders import subject_of
from raksa.subjects import limits
from raksa.testing.accounts import IMMEDIATE_TASKS, PASSWORD, citizen, platform_operator
from raksa.testing.mailbox import running
from raksa.vault import keys
from raksa.vault.actions import save_sealed
from raksa.vault.models import DataKey
from raksa.vault.openers import Opener
from raksa.vault.routers import KEYSTORE

WRITTEN = "ขอแก้ไขที่อยู่เป็นบ้านเลขที่ 9 canary-written-2d41"


def _person(username: str = "malee") -> User:
    platform_operator()
    user = citizen(username)
    store_email(user, f"{username}@example.org")
    return user


class ReauthenticationTests(TestCase):
    databases = "__all__"

    def test_it_asks_for_the_password_again_before_a_request_an_export_or_closing_r1(self) -> None:
        user = _person()
        self.client.force_login(user)  # a session that never proved the password
        for url in (reverse("rights:new_request"), reverse("rights:close_account")):
            response = self.client.get(url)
            self.assertRedirects(response, f"{reverse('accounts:reauthenticate')}?next={url.replace('/', '%2F')}")
        self.assertEqual(self.client.post(reverse("rights:request_export"), {"format": "json"}).status_code, 302)
        self.assertFalse(Export.objects.exists())

        wrong = self.client.post(reverse("accounts:reauthenticate"), {"password": "not it", "next": "/th/me/data/"})
        self.assertContains(wrong, "รหัสผ่านปัจจุบัน", status_code=200)
        right = self.client.post(reverse("accounts:reauthenticate"), {"password": PASSWORD, "next": "/th/me/data/"})
        self.assertRedirects(right, "/th/me/data/")
        self.assertEqual(self.client.get(reverse("rights:new_request")).status_code, 200)
        self.assertTrue(AuditEntry.objects.filter(action="accounts.reauthenticated", subject_id=subject_of(user).id))

    @override_settings(RAKSA_REAUTH_MINUTES=10)
    def test_it_asks_again_once_the_log_in_is_older_than_the_setting(self) -> None:
        _person()
        self.client.post("/th/accounts/login/", {"identifier": "malee", "password": PASSWORD})
        self.assertEqual(self.client.get(reverse("rights:new_request")).status_code, 200)
        session = self.client.session
        session[STARTED] = int(time.time()) - 11 * 60
        session.save()
        self.assertEqual(self.client.get(reverse("rights:new_request")).status_code, 302)


class PersonPagesTests(TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        self.user = _person()
        self.client.post("/th/accounts/login/", {"identifier": "malee", "password": PASSWORD})

    @override_settings(TASKS=IMMEDIATE_TASKS)
    def test_it_closes_the_account_from_its_page_and_the_person_cannot_log_in_again_r3(self) -> None:
        page = self.client.get(reverse("rights:close_account"))
        self.assertContains(page, "ปิดบัญชีและลบข้อมูลของฉัน")
        refused = self.client.post(reverse("rights:close_account"), {})
        self.assertEqual(refused.status_code, 200)  # the box is not ticked: nothing happens
        self.assertFalse(RightsRequest.objects.exists())
        with self.captureOnCommitCallbacks(execute=True):
            closed = self.client.post(reverse("rights:close_account"), {"confirm": "on"})
        self.assertContains(closed, "บัญชีของท่านปิดแล้ว")
        case = RightsRequest.objects.get()
        self.assertEqual((case.type, case.status), (RequestType.ERASURE, Status.COMPLETED))
        self.assertFalse(self.client.login(username="malee", password=PASSWORD))
        self.assertEqual(self.client.get(reverse("rights:my_data")).status_code, 302)  # logged out

    def test_it_withdraws_a_consent_from_the_request_form_s19(self) -> None:
        office = builders.agency()
        grant_consent(
            subject=subject_of(self.user), agency=office, purpose="profile_prefill", channel=Channel.WEB, minor=False
        )
        consent = Consent.objects.get()
        missing = self.client.post(reverse("rights:new_request"), {"type": "consent_withdrawal"})
        self.assertContains(missing, "โปรดเลือกความยินยอมที่ท่านต้องการถอน")
        response = self.client.post(
            reverse("rights:new_request"), {"type": "consent_withdrawal", "consent": str(consent.pk)}
        )
        case = RightsRequest.objects.get()
        self.assertRedirects(response, reverse("rights:request", args=[case.id]))
        consent.refresh_from_db()
        self.assertFalse(consent.granted)

    def test_it_saves_the_persons_own_correction_of_a_phone_number_audited_r3(self) -> None:
        office = builders.agency()
        service = builders.certificate(office)
        registration = builders.registration(
            service, self.user, phone="0812345678", address="1 ถนนสีหบุรานุกิจ", national_id="3100600445635"
        )
        page = self.client.get(reverse("rights:correct"))
        self.assertContains(page, "0812345678")
        self.assertNotContains(page, "3100600445635")  # an ID number needs an officer and evidence
        form = page.context["form"]
        data = {name: field.initial for name, field in form.fields.items()}
        (phone_box,) = [name for name, target in form.targets.items() if target[2] == "phone"]
        data[phone_box] = "0899999999"
        self.assertRedirects(self.client.post(reverse("rights:correct"), data), reverse("rights:correct"))
        registration.refresh_from_db()
        self.assertEqual(Opener.for_subject(subject_of(self.user).id).open(registration.phone), "0899999999")
        (entry,) = AuditEntry.objects.filter(action="rights.rectify")
        self.assertEqual(entry.field_names, ["phone"])


@override_settings(TASKS=IMMEDIATE_TASKS)
class StaffPagesTests(TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        controller = platform_operator()
        self.office = Agency.objects.create(
            slug="most-ops", controller=controller, name_th="สำนักงานปลัด", name_en="Permanent Secretary's Office"
        )
        self.dpo = builders.officer("dpo.most", self.office, StaffRole.DPO)
        self.officer = builders.officer("officer.most", self.office)
        self.person = _person()
        self.case = actions.file_request(
            subject=subject_of(self.person), type=RequestType.RECTIFICATION, details=WRITTEN, origin="http://testserver"
        )

    def sign_in(self, membership: StaffMembership) -> None:
        builders.log_in_staff(self.client, membership)

    def url(self, step: str = "") -> str:
        if step:
            return reverse("rights:case_step", args=[self.case.id, step])
        return reverse("rights:case", args=[self.case.id])

    def test_it_shows_the_dpo_every_open_case_by_due_date_with_overdue_marked_r2(self) -> None:
        late = actions.file_request(subject=subject_of(self.person), type=RequestType.ACCESS)
        RightsRequest.objects.filter(pk=late.pk).update(due_date=timezone.localdate() - timedelta(days=1))
        self.sign_in(self.dpo)
        page = self.client.get(reverse("rights:queue"))
        self.assertEqual([row["case"] for row in page.context["rows"]], [late, self.case])
        self.assertEqual([row["overdue"] for row in page.context["rows"]], [True, False])
        self.assertContains(page, "เกินกำหนด")
        self.assertNotContains(page, "canary-written")  # the queue shows no one's words

    def test_it_shows_an_officer_only_the_cases_assigned_to_them(self) -> None:
        self.sign_in(self.officer)
        self.assertEqual(self.client.get(reverse("rights:queue")).context["rows"], [])
        self.assertEqual(self.client.get(self.url()).status_code, 404)
        actions.assign_request(request=self.case, officer=self.officer.user, actor=self.dpo.user)
        self.assertEqual(len(self.client.get(reverse("rights:queue")).context["rows"]), 1)
        page = self.client.get(self.url())
        self.assertContains(page, "canary-written")  # read through the gateway...
        entry = AuditEntry.objects.filter(action="gateway.read", actor_id=self.officer.user_id).get()
        self.assertEqual((entry.purpose, entry.field_names), ("rights_requests", ["details"]))  # ...and audited
        self.assertEqual(self.client.post(self.url("assign"), {"officer": self.officer.pk}).status_code, 404)

    def test_it_answers_not_found_to_a_dpo_of_another_controller(self) -> None:
        minburi = builders.agency()
        self.sign_in(builders.officer("dpo.minburi", minburi, StaffRole.DPO))
        self.assertEqual(self.client.get(self.url()).status_code, 404)
        self.assertEqual(self.client.get(reverse("rights:queue")).context["rows"], [])

    def test_it_takes_a_case_from_assignment_to_a_refusal_with_its_legal_reason_r2(self) -> None:
        self.sign_in(self.dpo)
        self.assertRedirects(self.client.post(self.url("assign"), {"officer": self.officer.pk}), self.url())
        self.assertRedirects(self.client.post(self.url("identity"), {"method": "id_card"}), self.url())
        extended = self.client.post(self.url("extend"), {"days": "15", "reason": "complex_request"})
        self.assertRedirects(extended, self.url())
        without_reason = self.client.post(self.url("status"), {"status": "refused"})
        self.assertContains(without_reason, "การปฏิเสธต้องระบุเหตุผลทางกฎหมาย", status_code=400)
        self.case.refresh_from_db()
        self.assertEqual(self.case.status, Status.IN_PROGRESS)  # nothing half-saved
        refused = self.client.post(self.url("status"), {"status": "refused", "refusal_reason": "pdpa_s30_harms_others"})
        self.assertRedirects(refused, self.url())
        self.case.refresh_from_db()
        self.assertEqual(
            (self.case.status, self.case.assigned_to, self.case.identity_method, self.case.extension_reason),
            (Status.REFUSED, self.officer.user, "id_card", "complex_request"),
        )
        self.assertEqual(actions.refusals(), [("rectification", "pdpa_s30_harms_others", 1)])
        entry = AuditEntry.objects.get(action="rights.request.refused")
        self.assertEqual(
            (entry.outcome, entry.legal_basis, entry.agency_id), ("denied", "pdpa_s30_harms_others", self.office.pk)
        )
        self.assertIn("rights.request.refused: 1", [row.text("en") for row in ropa.build(self.office)])  # s39

    def test_it_applies_a_correction_from_the_case_page_only_after_identity_r3(self) -> None:
        registration = builders.registration(
            builders.certificate(builders.agency()),
            self.person,
            phone="0812345678",
            address="1 ถนนสีหบุรานุกิจ",
            national_id="3100600445635",
        )
        self.sign_in(self.dpo)
        target = f"services.Registration|{registration.pk}|address"
        early = self.client.post(self.url("rectify"), {"target": target, "value": "9 ถนนรามคำแหง"})
        self.assertContains(early, "โปรดยืนยันตัวตนของผู้ยื่นคำขอก่อน", status_code=400)
        self.client.post(self.url("identity"), {"method": "passport"})
        applied = self.client.post(self.url("rectify"), {"target": target, "value": "9 ถนนรามคำแหง"})
        self.assertRedirects(applied, self.url())
        registration.refresh_from_db()
        self.assertEqual(Opener.for_subject(subject_of(self.person).id).open(registration.address), "9 ถนนรามคำแหง")
        entry = AuditEntry.objects.get(action="rights.rectify")
        self.assertEqual((entry.actor_id, entry.field_names), (self.dpo.user_id, ["address"]))

    def test_it_records_a_walk_in_request_with_the_document_checked(self) -> None:
        self.sign_in(self.officer)
        response = self.client.post(
            reverse("rights:walk_in"),
            {"type": "access", "details": "ขอสำเนาข้อมูล", "method": "id_card", "contact_email": "walkin@example.org"},
        )
        case = RightsRequest.objects.exclude(pk=self.case.pk).get()
        self.assertRedirects(response, reverse("rights:case", args=[case.id]))
        self.assertEqual(
            (case.identity_method, case.identity_verified_by, case.assigned_to),
            ("id_card", self.officer.user, self.officer.user),
        )
        self.assertFalse(User.objects.filter(subject=case.subject).exists())  # a subject of their own

    def test_it_shows_a_message_that_could_not_be_sent_and_sends_it_again_r2(self) -> None:
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]
        nowhere = {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 2},
            }
        }
        with override_settings(MAILERS=nowhere), self.captureOnCommitCallbacks(execute=True):
            case = actions.file_request(subject=subject_of(self.person), type=RequestType.ACCESS, origin="http://x")
        case.refresh_from_db()
        self.assertEqual((case.unsent_mail, case.last_error), ("received", "ConnectionRefusedError"))
        self.sign_in(self.dpo)
        url = reverse("rights:case", args=[case.id])
        self.assertContains(self.client.get(url), "ConnectionRefusedError")
        mailbox = running()
        mailbox.clear()
        self.assertRedirects(self.client.post(reverse("rights:case_step", args=[case.id, "resend"])), url)
        case.refresh_from_db()
        self.assertEqual((case.unsent_mail, case.last_error), ("", ""))
        self.assertEqual(len(mailbox.received(to="malee@example.org")), 1)


@override_settings(TASKS=IMMEDIATE_TASKS)
class PaperRequestLinkTests(TestCase):
    """A paper request from an account holder: the officer finds them by the value on their document and links
    the case, so the erasure reaches the account (R3)."""

    databases = "__all__"

    def setUp(self) -> None:
        controller = platform_operator()
        self.office = Agency.objects.create(
            slug="most-ops", controller=controller, name_th="สำนักงานปลัด", name_en="Permanent Secretary's Office"
        )
        self.officer = builders.officer("officer.most", self.office)
        self.person = _person()
        builders.log_in_staff(self.client, self.officer)
        filed = self.client.post(
            reverse("rights:walk_in"),
            {"type": "erasure", "details": "ขอลบบัญชี canary-paper-77c1", "method": "id_card"},
        )
        self.case = RightsRequest.objects.get()
        self.assertRedirects(filed, reverse("rights:case", args=[self.case.id]))
        self.walk_in_subject = self.case.subject_id

    def link(self, **data: str) -> Any:  # the test client's response, with its context
        return self.client.post(reverse("rights:link", args=[self.case.id]), data)

    def test_it_finds_the_account_holder_by_a_posted_value_and_audits_the_search_without_it_r1(self) -> None:
        page = self.client.get(reverse("rights:case", args=[self.case.id]))
        self.assertContains(page, 'id="step-find"')
        found = self.link(kind="email", value=" MALEE@example.org ")
        self.assertEqual([p["subject"] for p in found.context["people"]], [subject_of(self.person)])
        self.assertTrue(found.context["people"][0]["account"])
        entry = AuditEntry.objects.get(action="rights.person_lookup")
        self.assertEqual(
            (entry.subject_id, entry.field_names, entry.purpose, entry.role, entry.agency_id),
            (subject_of(self.person).id, ["email"], "rights_requests", "officer", self.office.pk),
        )
        self.assertNotIn("malee@example.org", str(AuditEntry.objects.values_list()))

    def test_it_finds_nobody_outside_the_agency_and_links_nobody_outside_it(self) -> None:
        stranger = citizen("somsri")
        elsewhere = builders.registration(
            builders.certificate(builders.agency()),
            stranger,
            phone="0812345678",
            address="1 ถนนสีหบุรานุกิจ",
            national_id="3100600445635",
        )
        empty = self.link(kind="national_id", value="3-1006-00445-63-5")
        self.assertEqual(empty.context["people"], [])
        self.assertContains(empty, "ไม่พบบุคคลที่มีค่านี้ในหน่วยงานนี้")
        self.assertEqual(AuditEntry.objects.get(action="rights.person_lookup").outcome, "denied")
        refused = self.link(kind="national_id", value="3100600445635", subject=str(elsewhere.subject_id))
        self.assertEqual(refused.status_code, 404)
        self.case.refresh_from_db()
        self.assertEqual(self.case.subject_id, self.walk_in_subject)

    def test_it_links_the_paper_request_and_its_erasure_reaches_the_account_r3(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            linked = self.link(kind="email", value="malee@example.org", subject=str(subject_of(self.person).id))
        self.assertRedirects(linked, reverse("rights:case", args=[self.case.id]))
        self.case.refresh_from_db()
        self.assertEqual(self.case.subject_id, subject_of(self.person).id)
        opener = Opener.for_subject(self.case.subject_id)
        self.assertEqual(opener.open(self.case.details), "ขอลบบัญชี canary-paper-77c1")  # sealed again, theirs
        self.assertFalse(DataKey.objects.using(KEYSTORE).filter(subject_id=self.walk_in_subject, destroyed_at=None))
        self.assertTrue(AuditEntry.objects.filter(action="rights.request.link", subject_id=self.case.subject_id))
        self.assertNotContains(self.client.get(reverse("rights:case", args=[self.case.id])), 'id="step-find"')
        done = self.client.post(reverse("rights:case_step", args=[self.case.id, "status"]), {"status": "completed"})
        self.assertRedirects(done, reverse("rights:case", args=[self.case.id]))
        self.assertFalse(self.client.login(username="malee", password=PASSWORD))
        self.assertFalse(User.objects.filter(username="malee").exists())

    def test_it_keeps_the_walk_in_subjects_keys_that_seal_what_was_written_for_it_meanwhile(self) -> None:
        # A key of another class the walk-in person had that seals nothing any more (its row gone).
        notices.keep_address(request=self.case, address="malee.paper@example.org")
        ErasureNotice.objects.filter(request=self.case).delete()
        written: list[RightsRequest] = []
        when_free = keys.when_free

        def writing_first(subjects: Iterable[str], **arguments: Any) -> keys.Busy:
            subjects = list(subjects)
            if not written and self.walk_in_subject.hex in subjects:
                # Another paper request of the walk-in person, committed once nothing else held them.
                other = RightsRequest.objects.get(pk=self.case.pk)
                other.id, other.subject_id, other.contact_email = uuid.uuid4(), self.walk_in_subject, None
                other.details = "คำขอฉบับที่สอง canary-paper-2"
                other._state.adding = True
                with transaction.atomic():
                    save_sealed(other)
                written.append(other)
            return when_free(subjects, **arguments)

        with patch.object(keys, "when_free", writing_first), self.captureOnCommitCallbacks(execute=True):
            self.link(kind="email", value="malee@example.org", subject=str(subject_of(self.person).id))
        self.case.refresh_from_db()
        self.assertEqual(self.case.subject_id, subject_of(self.person).id)
        (other,) = written
        kept = RightsRequest.objects.get(pk=other.pk)
        opened = Opener.for_subject(self.walk_in_subject).open(kept.details)
        self.assertEqual(opened, "คำขอฉบับที่สอง canary-paper-2")
        live = DataKey.objects.using(KEYSTORE).filter(subject_id=self.walk_in_subject, destroyed_at=None)
        details = registry.declaration("rights.RightsRequest", "details").retention
        self.assertEqual(list(live.values_list("retention", flat=True)), [details.code])
        self.assertTrue(
            DataKey.objects.using(KEYSTORE)
            .filter(subject_id=self.walk_in_subject, retention=ERASURE_NOTICE.code)
            .exclude(destroyed_at=None)
        )
        # The task finished the work and recorded it (a count under the link's name, no person, no actor).
        self.assertFalse(KeyStoreWork.objects.exists())
        entry = AuditEntry.objects.get(action="retention.keys_destroyed")
        self.assertEqual(
            (entry.object_type, entry.object_id, entry.subject_id, entry.actor_id),
            (actions.LINKED_RULE, "1", None, None),
        )

    def test_it_asks_for_the_kind_and_value_field_by_field(self) -> None:
        response = self.link(kind="fingerprint", value="")
        self.assertEqual(response.status_code, 400)
        self.assertEqual(set(response.context["link"].errors), {"kind", "value"})
        self.assertFalse(AuditEntry.objects.filter(action="rights.person_lookup"))


@override_settings(TASKS=IMMEDIATE_TASKS)
class LimitCaseTests(TestCase):
    """A restriction (PDPA s34) or an objection (s32) granted on its case stops the processing it names; the
    person and the officer see it in force, and the person is written to when it is lifted."""

    databases = "__all__"

    def setUp(self) -> None:
        controller = platform_operator()
        office = Agency.objects.create(slug="most-ops", controller=controller, name_th="สำนักงานปลัด", name_en="Office")
        self.dpo = builders.officer("dpo.most", office, StaffRole.DPO)
        self.person = _person()
        self.subject = subject_of(self.person)
        builders.log_in_staff(self.client, self.dpo)
        self.citizen = Client()
        self.citizen.force_login(self.person)

    def file(self, kind: str) -> RightsRequest:
        return actions.file_request(
            subject=self.subject, type=kind, details="โปรดหยุดใช้ข้อมูลของฉัน", identity_method="reauthentication"
        )

    def step(self, case: RightsRequest, step: str, data: dict | None = None) -> Any:
        return self.client.post(reverse("rights:case_step", args=[case.id, step]), data or {})

    def test_it_puts_a_restriction_in_force_that_both_sides_see_and_lifts_it_with_a_mail_r3(self) -> None:
        case = self.file(RequestType.RESTRICTION)
        self.assertContains(self.client.get(reverse("rights:case", args=[case.id])), 'id="step-limit"')
        self.assertRedirects(self.step(case, "limit"), reverse("rights:case", args=[case.id]))
        case.refresh_from_db()
        self.assertEqual(case.status, Status.COMPLETED)
        self.assertTrue(limits.is_limited(self.subject.id, "service_delivery"))
        self.assertFalse(limits.is_limited(self.subject.id, "rights_requests"))  # the request is still answered
        self.assertContains(self.client.get(reverse("rights:case", args=[case.id])), 'id="case-limits"')
        self.assertContains(self.citizen.get(reverse("rights:request", args=[case.id])), "ทุกวัตถุประสงค์ ยกเว้น")
        self.assertContains(self.citizen.get("/th/me/data/"), "การระงับหรือคัดค้านการใช้ข้อมูลของฉันที่มีผลอยู่")
        self.assertContains(self.citizen.get("/en/me/data/"), "Limits on the use of my data in force")
        self.assertTrue(AuditEntry.objects.filter(action="subjects.limit_processing", legal_basis="pdpa_s34"))

        mailbox = running()
        mailbox.clear()
        with self.captureOnCommitCallbacks(execute=True):
            lifting = self.step(case, "lift")
        self.assertRedirects(lifting, reverse("rights:case", args=[case.id]))  # on a closed case
        self.assertFalse(limits.is_limited(self.subject.id, "service_delivery"))
        self.assertNotContains(self.citizen.get("/th/me/data/"), 'id="my-limits"')
        (lifted,) = mailbox.received(to="malee@example.org")
        self.assertIn("ยกเลิกแล้ว", lifted.get_content())
        self.assertEqual(self.step(case, "lift").status_code, 404)  # nothing left to lift

    def test_it_upholds_an_objection_only_for_the_purposes_objected_to_r3(self) -> None:
        case = self.file(RequestType.OBJECTION)
        self.assertContains(self.step(case, "limit"), "โปรดเลือกวัตถุประสงค์ที่ยอมรับการคัดค้าน", status_code=400)
        self.assertEqual(self.step(case, "limit", {"purposes": ["rights_requests"]}).status_code, 400)
        self.assertFalse(limits.in_force(self.subject.id).exists())  # nothing half-saved
        self.step(case, "limit", {"purposes": ["news_and_pr"]})
        self.assertTrue(limits.is_limited(self.subject.id, "news_and_pr"))
        self.assertFalse(limits.is_limited(self.subject.id, "service_delivery"))
        case.refresh_from_db()
        self.assertEqual(case.status, Status.COMPLETED)
        self.assertContains(self.citizen.get("/en/me/data/"), "objection upheld (PDPA s32)")
