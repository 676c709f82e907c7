import re
import uuid
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import TestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from raksa.audit.models import AuditEntry, Outcome
from raksa.consent import policies
from raksa.organisations.models import StaffRole
from raksa.services import actions, prefill
from raksa.services.models import CaseNote, Registration, Status
from raksa.services.tests import builders
from raksa.subjects.actions import lift_limits, limit_processing
from raksa.subjects.limits import ALL
from raksa.subjects.models import LimitKind
from raksa.testing.mailbox import Mailbox
from raksa.vault.sealed import WITHHELD

IMMEDIATE_TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


def smtp(mailbox: Mailbox) -> dict:
    """Mail to the test SMTP server (Django's test set-up would otherwise keep it in memory)."""
    return {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": mailbox.host, "port": mailbox.port, "timeout": 5},
        }
    }


class MailboxMixin:
    """Sends the site's mail to the test SMTP server and keeps it at hand as self.mailbox."""

    mailbox: Mailbox

    @pytest.fixture(autouse=True)
    def _mailbox(self, mailbox: Mailbox) -> Iterator[None]:
        self.mailbox = mailbox
        with override_settings(MAILERS=smtp(mailbox)):
            yield


def form_values(page: str) -> dict[str, str]:
    """The hidden fields of the rendered registration form (its submission key and notice version)."""
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    return {name: hidden[name] for name in ("submission_key", "notice")}


@override_settings(TASKS=IMMEDIATE_TASKS)
class RegistrationFormTests(TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        self.service = builders.certificate(builders.agency())
        self.person = builders.citizen()
        self.client.force_login(self.person)
        self.url = "/th/services/certificate/"

    def post(self, language: str = "th", **changes: str):
        page = self.client.get(f"/{language}/services/certificate/").content.decode()
        data = {
            **form_values(page),
            "name": "สมชาย รักดี",
            "national_id": builders.NATIONAL_ID,
            "phone": builders.PHONE,
            "email": "somchai@example.org",
            **builders.ADDRESS,
            **changes,
        }
        return self.client.post(f"/{language}/services/certificate/register/", data)

    def test_it_shows_the_notice_generated_from_the_declaration(self) -> None:
        page = self.client.get(self.url)
        self.assertContains(page, "ชื่อ-นามสกุล")
        self.assertContains(page, "เลขประจำตัวประชาชน")
        self.assertContains(page, "ให้บริการที่ท่านขอรับ")
        self.assertContains(page, "มาตรา 24(4)")
        self.assertContains(page, "730 วัน")
        self.assertContains(page, "dpo@minburi.example")
        self.assertContains(page, 'href="/th/privacy/"')
        self.assertNotContains(page, "ศาสนา")
        self.assertContains(page, 'name="national_id"')
        self.assertNotContains(page, 'name="religion"')

    def test_it_refuses_an_undeclared_field_posted_by_hand_c1(self) -> None:
        response = self.post(religion="พุทธ")
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "บริการนี้ไม่ได้ขอ ศาสนาหรือความเชื่อ", status_code=400)
        response = self.post(favourite_colour="red")
        self.assertContains(response, "favourite_colour", status_code=400)
        self.assertFalse(Registration.objects.exists())

    def test_it_registers_and_records_the_notice_shown_c3(self) -> None:
        response = self.post()
        registration = Registration.objects.get()
        self.assertRedirects(response, f"/th/services/mine/{registration.pk}/")
        self.assertEqual(registration.notice.number, 1)
        page = self.client.get(f"/th/services/mine/{registration.pk}/")
        self.assertContains(page, builders.NATIONAL_ID)
        self.assertContains(page, "081 234 5678")
        self.assertContains(page, "แขวงมีนบุรี เขตมีนบุรี")

    def test_it_reads_the_policys_coverage_once_for_the_page_and_once_more_under_the_lock_c1(self) -> None:
        coverage = 'consent_policyversion"."coverage"'
        with CaptureQueriesContext(connection) as reading:
            page = self.client.get(self.url).content.decode()
        self.assertEqual(sum(coverage in query["sql"] for query in reading.captured_queries), 1)
        data = {**form_values(page), "name": "สมชาย", "national_id": builders.NATIONAL_ID, "phone": builders.PHONE}
        data.update({**builders.ADDRESS, "email": "s@example.org"})
        # The form is checked against the fields in force, and registering checks them again while
        # it holds the service: the notice it records is built from that second reading.
        with CaptureQueriesContext(connection) as registering:
            self.assertEqual(self.client.post(f"{self.url}register/", data).status_code, 302)
        self.assertEqual(sum(coverage in query["sql"] for query in registering.captured_queries), 2)

    def test_it_creates_one_registration_for_a_double_submit(self) -> None:
        page = self.client.get(self.url).content.decode()
        data = {
            **form_values(page),
            "name": "สมชาย",
            "national_id": builders.NATIONAL_ID,
            "phone": builders.PHONE,
            "email": "s@example.org",
            **builders.ADDRESS,
        }
        first = self.client.post(f"{self.url}register/", data)
        second = self.client.post(f"{self.url}register/", data)
        self.assertEqual(Registration.objects.count(), 1)
        self.assertEqual(first["Location"], second["Location"])

    def test_it_explains_bad_thai_input_per_field_in_thai(self) -> None:
        response = self.post(national_id="3100600445636", phone="+1 415 555 2671", address_postal_code="10400")
        self.assertContains(response, "เลขประจำตัวประชาชนไม่ถูกต้อง", status_code=400)
        self.assertContains(response, "ไม่ใช่หมายเลขโทรศัพท์ในประเทศไทย", status_code=400)
        self.assertContains(response, "รหัสไปรษณีย์ไม่ตรงกับแขวง/ตำบลและเขต/อำเภอ", status_code=400)
        self.assertContains(response, "10510", status_code=400)
        self.assertFalse(Registration.objects.exists())

    def test_it_explains_bad_thai_input_per_field_in_english(self) -> None:
        response = self.post("en", national_id="1234567890123", address_district="บางรัก")
        self.assertContains(response, "last digit does not match", status_code=400)
        self.assertContains(response, "This subdistrict is not in that district and province", status_code=400)

    def test_it_refuses_a_closed_service_with_a_message(self) -> None:
        page = self.client.get(self.url).content.decode()
        self.service.is_open = False
        self.service.save()
        response = self.client.post(f"{self.url}register/", {**form_values(page), "name": "x"})
        self.assertContains(response, "ปิดรับ", status_code=409)
        self.assertFalse(Registration.objects.exists())


@override_settings(TASKS=IMMEDIATE_TASKS)
class ActivityTests(MailboxMixin, TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        self.workshop = builders.activity(builders.agency(), capacity=1)

    def register(self, username: str):
        person = builders.citizen(username)
        self.client.force_login(person)
        page = self.client.get("/th/services/workshop/").content.decode()
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(
                "/th/services/workshop/register/",
                {**form_values(page), "name": "สมหญิง", "email": f"{username}@example.org"},
            )
        return person

    def test_it_mails_a_confirmation_with_an_ics_file(self) -> None:
        self.register("somying")
        [message] = self.mailbox.received("somying@example.org")
        self.assertIn("อบรมการปฐมพยาบาลเบื้องต้น", message["Subject"])
        [attachment] = list(message.iter_attachments())
        self.assertEqual(attachment.get_filename(), "activity.ics")
        ics = attachment.get_content().replace("\r\n ", "")
        self.assertIn("BEGIN:VEVENT", ics)
        self.assertIn("SUMMARY:อบรมการปฐมพยาบาลเบื้องต้น", ics)
        self.assertNotIn("สมหญิง", message.as_string())

    def test_it_puts_the_second_on_the_waiting_list_and_promotes_them_on_cancellation(self) -> None:
        first = self.register("first")
        self.register("second")
        second = Registration.objects.get(subject=Registration.objects.exclude(subject=first.subject).get().subject)
        self.assertEqual(second.status, Status.WAITLISTED)
        page = self.client.get(f"/th/services/mine/{second.pk}/")
        self.assertContains(page, "ลำดับที่ 1 ในรายชื่อสำรอง")
        self.client.force_login(first)
        mine = Registration.objects.get(subject=first.subject)
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(f"/th/services/mine/{mine.pk}/cancel/")
        second.refresh_from_db()
        self.assertEqual(second.status, Status.RECEIVED)
        promoted = self.mailbox.received("second@example.org")
        self.assertTrue(any(part.get_filename() == "activity.ics" for m in promoted for part in m.iter_attachments()))

    def test_it_shows_another_persons_registration_as_not_found(self) -> None:
        self.register("owner")
        registration = Registration.objects.get()
        self.client.force_login(builders.citizen("stranger"))
        self.assertEqual(self.client.get(f"/th/services/mine/{registration.pk}/").status_code, 404)
        self.assertEqual(self.client.post(f"/th/services/mine/{registration.pk}/cancel/").status_code, 404)


@override_settings(TASKS=IMMEDIATE_TASKS)
class OfficerTests(MailboxMixin, TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        self.minburi = builders.agency()
        self.service = builders.certificate(self.minburi)
        self.other_service = builders.certificate(self.minburi, slug="complaint", fields=("name", "message"))
        self.officer = builders.officer("officer.minburi", self.minburi)
        actions.assign_officer(service=self.service, staff=self.officer, actor=None)
        self.person = builders.citizen()
        self.registration = builders.registration(self.service, self.person, **builders.CERTIFICATE_VALUES)
        builders.log_in_staff(self.client, self.officer)

    def test_it_lists_the_queue_with_values_read_through_the_gateway_s2(self) -> None:
        page = self.client.get("/th/services/queue/")
        self.assertContains(page, "สมชาย รักดี")
        self.assertContains(page, self.registration.reference)
        entry = AuditEntry.objects.get(action="gateway.read", object_id=str(self.registration.pk))
        self.assertEqual(entry.purpose, "service_delivery")
        self.assertEqual(entry.fields, "name,phone")

    def test_it_withholds_the_values_of_a_person_who_restricted_processing_and_audits_it(self) -> None:
        other = builders.registration(self.service, builders.citizen("malee"), **builders.CERTIFICATE_VALUES)
        reference = uuid.uuid4()
        limit_processing(
            subject=self.registration.subject,
            kind=LimitKind.RESTRICTION,
            purposes=[ALL],
            reference=reference,
            actor=None,
        )
        queue = self.client.get("/th/services/queue/")
        values = {row["registration"].pk: row["values"] for row in queue.context["rows"]}
        self.assertEqual(values[self.registration.pk], {"name": WITHHELD, "phone": WITHHELD})
        self.assertEqual(values[other.pk]["name"], "สมชาย รักดี")  # the rest of the screen opens
        self.assertContains(queue, "ระงับ")
        case = self.client.get(f"/th/services/queue/{self.registration.pk}/")
        self.assertNotContains(case, builders.NATIONAL_ID)
        limited = AuditEntry.objects.filter(action="gateway.read_limited", object_id=str(self.registration.pk))
        self.assertEqual({entry.outcome for entry in limited}, {Outcome.DENIED})
        self.assertEqual(limited.count(), 2)
        lift_limits(subject=self.registration.subject, reference=reference, actor=None)
        self.assertContains(self.client.get(f"/th/services/queue/{self.registration.pk}/"), builders.NATIONAL_ID)

    def test_it_audits_every_read_of_a_case_s2(self) -> None:
        page = self.client.get(f"/th/services/queue/{self.registration.pk}/")
        self.assertContains(page, builders.NATIONAL_ID)
        entry = AuditEntry.objects.get(action="gateway.read", object_id=str(self.registration.pk))
        self.assertEqual(entry.outcome, Outcome.ALLOWED)
        self.assertEqual(set(entry.fields.split(",")), {"name", "national_id", "phone", "address", "email"})
        self.assertEqual(entry.actor_id, self.officer.user_id)

    def test_it_answers_not_found_to_an_officer_of_another_service_s2(self) -> None:
        colleague = builders.officer("officer.complaints", self.minburi)
        actions.assign_officer(service=self.other_service, staff=colleague, actor=None)
        builders.log_in_staff(self.client, colleague)
        self.assertEqual(self.client.get(f"/th/services/queue/{self.registration.pk}/").status_code, 404)
        self.assertNotContains(self.client.get("/th/services/queue/"), self.registration.reference)
        self.assertEqual(
            self.client.post(f"/th/services/queue/{self.registration.pk}/status/", {"status": "approved"}).status_code,
            404,
        )

    def test_it_answers_not_found_to_an_officer_of_another_agency_s2(self) -> None:
        stranger = builders.officer("officer.most", builders.agency("most-ops", "most"))
        builders.log_in_staff(self.client, stranger)
        self.assertEqual(self.client.get(f"/th/services/queue/{self.registration.pk}/").status_code, 404)
        self.assertFalse(AuditEntry.objects.filter(action="gateway.read", outcome=Outcome.ALLOWED).exists())

    def test_it_keeps_a_dpo_and_citizens_out_of_the_queue_s2(self) -> None:
        builders.log_in_staff(self.client, builders.officer("dpo.minburi", self.minburi, role=StaffRole.DPO))
        self.assertEqual(self.client.get(f"/th/services/queue/{self.registration.pk}/").status_code, 404)
        self.client.force_login(self.person)
        self.assertNotEqual(self.client.get("/th/services/queue/").status_code, 200)

    def test_it_refuses_a_rejection_without_a_reason_and_shows_the_reason_to_the_person(self) -> None:
        url = f"/th/services/queue/{self.registration.pk}/status/"
        self.assertContains(self.client.post(url, {"status": "rejected"}), "ระบุเหตุผล", status_code=400)
        self.client.post(url, {"status": "rejected", "reason": "สำเนาทะเบียนบ้านไม่ชัดเจน"})
        self.registration.refresh_from_db()
        self.assertEqual(self.registration.status, Status.REJECTED)
        self.assertIsNotNone(self.registration.closed_at)
        self.client.force_login(self.person)
        self.assertContains(self.client.get(f"/th/services/mine/{self.registration.pk}/"), "สำเนาทะเบียนบ้านไม่ชัดเจน")

    def test_it_moves_a_case_through_its_statuses_with_notes_and_mail(self) -> None:
        base = f"/th/services/queue/{self.registration.pk}/"
        for status in ("in_progress", "approved", "completed"):
            self.client.post(f"{base}status/", {"status": status})
            self.registration.refresh_from_db()
            self.assertEqual(self.registration.status, status)
        self.client.post(f"{base}note/", {"text": "โทรแจ้งแล้ว"})
        self.assertContains(self.client.get(base), "โทรแจ้งแล้ว")
        self.assertTrue(AuditEntry.objects.filter(action="gateway.read", object_type="services.casenote").exists())
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(f"{base}notify/")
        [message] = self.mailbox.received("somchai@example.org")
        self.assertIn(self.registration.reference, message["Subject"])
        self.assertNotIn(builders.NATIONAL_ID, message.as_string())

    def test_it_tells_the_officer_an_erased_case_takes_no_note(self) -> None:
        Registration.objects.filter(pk=self.registration.pk).update(erased_at=timezone.now())
        base = f"/th/services/queue/{self.registration.pk}/"
        page = self.client.post(f"{base}note/", {"text": "โทรแจ้งแล้ว"}, follow=True)
        self.assertContains(page, "ถูกลบแล้ว")
        self.assertFalse(CaseNote.objects.filter(registration=self.registration).exists())


class CalendarTests(TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        self.workshop = builders.activity(builders.agency())

    def test_it_shows_the_month_with_thai_month_names_and_the_buddhist_year(self) -> None:
        starts = self.workshop.starts_at
        from django.utils import timezone

        local = timezone.localtime(starts)
        page = self.client.get(f"/th/services/calendar/?month={local.year}-{local.month:02d}")
        from raksa.core.templatetags.thai_dates import THAI_MONTHS

        self.assertContains(page, f"{THAI_MONTHS[local.month - 1]} {local.year + 543}")
        self.assertContains(page, 'href="/th/services/workshop/"')
        english = self.client.get(f"/en/services/calendar/?month={local.year}-{local.month:02d}")
        self.assertContains(english, f"{local.year}")

    def test_it_lists_upcoming_activities_with_a_link_to_register(self) -> None:
        page = self.client.get("/th/services/calendar/list/")
        self.assertContains(page, "อบรมการปฐมพยาบาลเบื้องต้น")
        self.assertContains(page, 'href="/th/services/workshop/"')

    def test_it_serves_an_icalendar_feed(self) -> None:
        response = self.client.get("/th/services/calendar/activities.ics")
        self.assertEqual(response["Content-Type"], "text/calendar; charset=utf-8")
        body = response.content.decode()
        self.assertTrue(body.startswith("BEGIN:VCALENDAR\r\n"))
        self.assertIn(f"UID:activity-{self.workshop.pk}@raksa", body)
        self.assertIn("URL:http://testserver/th/services/workshop/", body)

    def test_it_ignores_a_bad_month(self) -> None:
        self.assertEqual(self.client.get("/th/services/calendar/?month=2026-13").status_code, 200)
        self.assertEqual(self.client.get(f"/th/services/calendar/?month={uuid.uuid4()}").status_code, 200)


@override_settings(TASKS=IMMEDIATE_TASKS)
class SensitiveAndDateTests(TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        office = builders.agency()
        self.service = builders.certificate(office, slug="health-check", fields=("name",))
        actions.declare_field(
            service=self.service, category="birth_date", purpose="service_delivery", legal_basis="pdpa_24_4", actor=None
        )
        actions.declare_field(
            service=self.service,
            category="health",
            purpose="service_delivery_sensitive",
            legal_basis="explicit_consent",
            required=False,
            actor=None,
        )
        builders.publish_policy(office)
        self.person = builders.citizen()
        self.client.force_login(self.person)

    def post(self, **changes: str):
        page = self.client.get("/th/services/health-check/").content.decode()
        data = {**form_values(page), "name": "สมชาย", "birth_date": "25/12/2530", "era": "be", **changes}
        return self.client.post("/th/services/health-check/register/", data)

    def test_it_asks_explicit_consent_before_taking_sensitive_data(self) -> None:
        page = self.client.get("/th/services/health-check/")
        self.assertContains(page, "ความยินยอมโดยชัดแจ้ง")
        self.assertContains(page, 'name="consent_health"')
        response = self.post(health="ความดันสูง")
        self.assertContains(response, "ข้อมูลนี้ต้องได้รับความยินยอมโดยชัดแจ้งจากท่าน", status_code=400)
        self.assertFalse(Registration.objects.exists())
        self.post(health="ความดันสูง", consent_health="on")
        self.assertEqual(Registration.objects.get().explicit_consents, ["health"])

    def test_it_takes_dates_in_the_buddhist_era_and_shows_them_so(self) -> None:
        self.post()
        registration = Registration.objects.get()
        page = self.client.get(f"/th/services/mine/{registration.pk}/")
        self.assertContains(page, "25 ธันวาคม 2530")
        english = self.client.get(f"/en/services/mine/{registration.pk}/")
        self.assertContains(english, "25 December 1987")

    def test_it_catches_a_common_era_year_typed_as_buddhist(self) -> None:
        response = self.post(birth_date="25/12/1987")
        self.assertContains(response, "ท่านหมายถึงปีพุทธศักราชหรือไม่", status_code=400)
        self.post(birth_date="25/12/1987", era="ce")
        self.assertTrue(Registration.objects.exists())


class PrefillTests(TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        self.service = builders.certificate(builders.agency(), fields=("name", "email"))
        self.client.force_login(builders.citizen())
        # These tests plug in their own source and check; the apps' registrations come back after.
        self.registered = (dict(prefill._SOURCES), list(prefill._CONSENT_CHECKS))
        prefill._SOURCES.clear()
        prefill._CONSENT_CHECKS.clear()

    def tearDown(self) -> None:
        prefill._SOURCES.clear()
        prefill._SOURCES.update(self.registered[0])
        prefill._CONSENT_CHECKS[:] = self.registered[1]

    def test_it_prefills_from_the_profile_only_with_consent(self) -> None:
        prefill.register_source("email", lambda request: "profile@example.org")
        self.assertNotContains(self.client.get("/th/services/certificate/"), "profile@example.org")
        consented: list[bool] = [False]
        prefill.register_consent_check(lambda request, service: consented[0])
        self.assertNotContains(self.client.get("/th/services/certificate/"), "profile@example.org")
        consented[0] = True
        self.assertContains(self.client.get("/th/services/certificate/"), 'value="profile@example.org"')


class PublicPageCacheTests(TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        cache.clear()

    @override_settings(RAKSA_PUBLIC_PAGE_SECONDS=30)
    def test_it_serves_anonymous_visitors_the_service_pages_from_memory(self) -> None:
        service = builders.certificate(builders.agency())
        for url in ("/th/services/", "/th/services/certificate/"):
            self.client.get(url)
            with self.assertNumQueries(0):
                self.assertContains(self.client.get(url), service.title_th)
        # Someone signed in gets a fresh page, with the form that is theirs to fill in.
        self.client.force_login(builders.citizen())
        self.assertContains(self.client.get("/th/services/certificate/"), 'name="national_id"')


class PolicyCoverageTests(TestCase):
    databases = "__all__"

    def test_it_collects_a_new_field_only_once_a_published_policy_covers_it_c1(self) -> None:
        service = builders.certificate(builders.agency(), fields=("name",))
        actions.declare_field(
            service=service, category="workplace", purpose="service_delivery", legal_basis="pdpa_24_4", actor=None
        )
        self.assertEqual([item.category for item in policies.pending_changes(service.agency)], ["workplace"])
        self.client.force_login(builders.citizen())
        self.assertNotContains(self.client.get("/th/services/certificate/"), 'name="workplace"')
        builders.publish_policy(service.agency)
        self.assertEqual(policies.pending_changes(service.agency), [])
        published = policies.current_policy(service.agency)
        assert published is not None
        self.assertIn("ขอหนังสือรับรองถิ่นที่อยู่", published.markdown_th)
        self.assertContains(self.client.get("/th/services/certificate/"), 'name="workplace"')
