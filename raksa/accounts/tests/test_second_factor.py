import re

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory, TestCase
from django_otp.plugins.otp_totp.models import TOTPDevice

from raksa.accounts.mfa import require_staff_second_factor, staff_mfa_required
from raksa.accounts.models import RecoveryCode, Session
from raksa.audit.models import AuditEntry
from raksa.organisations.models import StaffRole
from raksa.testing import accounts as personas

LOGIN = "/th/accounts/login/"
SECOND_STEP = "/th/accounts/login/second-factor/"
SESSIONS = "/th/accounts/sessions/"
SETUP = "/th/accounts/two-factor/setup/"
STAFF_PAGE = "/th/accounts/staff/"


def log_in(client: Client, identifier: str, password: str = personas.PASSWORD):
    return client.post(LOGIN, {"identifier": identifier, "password": password})


class CitizenSecondFactorTests(TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        self.user = personas.citizen()

    def enrol(self) -> list[str]:
        log_in(self.client, "somchai")
        page = self.client.get(SETUP)
        self.assertContains(page, "<svg")
        device = TOTPDevice.objects.get(user=self.user, confirmed=False)
        response = self.client.post(SETUP, {"code": personas.totp_code(device)})
        self.assertContains(response, "รหัสกู้คืนของท่าน")
        return re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", response.content.decode())

    def test_it_turns_on_totp_and_shows_ten_recovery_codes_once(self) -> None:
        codes = self.enrol()
        self.assertEqual(len(codes), 10)
        self.assertTrue(TOTPDevice.objects.get(user=self.user).confirmed)
        # Only digests are kept.
        stored = set(RecoveryCode.objects.values_list("digest", flat=True))
        self.assertFalse(stored & set(codes))
        self.assertTrue(AuditEntry.objects.filter(action="accounts.mfa_enrolled", actor=self.user).exists())

    def test_it_refuses_a_wrong_code_at_enrolment_in_thai(self) -> None:
        log_in(self.client, "somchai")
        self.client.get(SETUP)
        response = self.client.post(SETUP, {"code": "000000"})
        self.assertContains(response, "รหัสไม่ถูกต้อง")
        self.assertContains(self.client.post(SETUP, {"code": "12ab"}), "กรอกตัวเลข 6 หลักที่แสดงในแอป")
        self.assertFalse(TOTPDevice.objects.filter(user=self.user, confirmed=True).exists())

    def test_it_asks_for_the_code_after_the_password(self) -> None:
        self.enrol()
        device = TOTPDevice.objects.get(user=self.user)
        client = Client()
        self.assertRedirects(log_in(client, "somchai"), SECOND_STEP, fetch_redirect_response=False)
        self.assertEqual(client.get(SESSIONS).status_code, 302, "not logged in before the second step")
        wrong = client.post(SECOND_STEP, {"code": "000000"})
        self.assertContains(wrong, "รหัสไม่ถูกต้อง หรือถูกใช้ไปแล้ว")
        # A person takes longer than django-otp's one-second slow-down after a wrong code.
        TOTPDevice.objects.update(throttling_failure_count=0, throttling_failure_timestamp=None)
        right = client.post(SECOND_STEP, {"code": personas.totp_code(device, step_offset=1)})
        self.assertEqual(right.status_code, 302)
        self.assertEqual(client.get(SESSIONS).status_code, 200)
        self.assertTrue(AuditEntry.objects.filter(action="accounts.mfa_failed", subject=self.user.subject).exists())

    def test_it_accepts_each_recovery_code_once(self) -> None:
        codes = self.enrol()
        first = Client()
        log_in(first, "somchai")
        self.assertEqual(first.post(SECOND_STEP, {"code": codes[0].upper()}).status_code, 302)
        second = Client()
        log_in(second, "somchai")
        self.assertEqual(second.post(SECOND_STEP, {"code": codes[0]}).status_code, 200)

    def test_it_turns_the_second_factor_off_with_the_password(self) -> None:
        self.enrol()
        wrong = self.client.post("/th/accounts/two-factor/off/", {"password": "nope"})
        self.assertContains(wrong, "รหัสผ่านนี้ไม่ใช่รหัสผ่านปัจจุบันของท่าน", status_code=400)
        self.client.post("/th/accounts/two-factor/off/", {"password": personas.PASSWORD})
        self.assertFalse(TOTPDevice.objects.filter(user=self.user).exists())
        self.assertFalse(RecoveryCode.objects.filter(user=self.user).exists())


def personal_data_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("personal data")


class StaffSecondFactorTests(TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        self.officer = personas.staff("officer")
        self.guarded = staff_mfa_required(personal_data_view)

    def request_as(self, client: Client) -> HttpRequest:
        """A request carrying the client's session, as the middleware would build it."""
        from django.conf import settings
        from django.contrib.auth import get_user
        from django.contrib.sessions.backends.base import SessionBase
        from django.utils.module_loading import import_string

        request = RequestFactory().get("/th/staff/records/")
        store: SessionBase = import_string(f"{settings.SESSION_ENGINE}.SessionStore")(
            client.cookies[settings.SESSION_COOKIE_NAME].value
        )
        request.session = store
        request.user = get_user(request)
        return request

    def test_it_keeps_staff_without_a_second_factor_from_personal_data(self) -> None:
        log_in(self.client, "officer")
        request = self.request_as(self.client)
        response = self.guarded(request)
        self.assertEqual(response.status_code, 302)
        self.assertTrue(response["Location"].startswith("/th/accounts/two-factor/?next="))
        with self.assertRaises(PermissionDenied):
            require_staff_second_factor(request)

    def test_it_lets_staff_through_after_the_second_factor(self) -> None:
        device = personas.with_totp(self.officer)
        log_in(self.client, "officer")
        self.client.post(SECOND_STEP, {"code": personas.totp_code(device)})
        request = self.request_as(self.client)
        self.assertEqual(self.guarded(request).content, b"personal data")
        self.assertEqual(require_staff_second_factor(request), self.officer)

    def test_it_refuses_a_citizen_even_with_a_second_factor(self) -> None:
        citizen = personas.citizen()
        device = personas.with_totp(citizen)
        log_in(self.client, "somchai")
        self.client.post(SECOND_STEP, {"code": personas.totp_code(device)})
        with self.assertRaises(PermissionDenied):
            self.guarded(self.request_as(self.client))

    def test_it_sends_an_anonymous_visitor_to_log_in(self) -> None:
        request = RequestFactory().get("/th/staff/records/")
        from django.contrib.auth.models import AnonymousUser

        request.user = AnonymousUser()
        self.assertEqual(self.guarded(request).status_code, 302)

    def test_it_redirects_staff_to_set_up_the_second_factor_before_the_staff_page(self) -> None:
        personas.staff("admin", role=StaffRole.ADMINISTRATOR)
        log_in(self.client, "admin")
        response = self.client.get(STAFF_PAGE)
        self.assertRedirects(
            response, f"/th/accounts/two-factor/?next={STAFF_PAGE.replace('/', '%2F')}", fetch_redirect_response=False
        )
        self.assertContains(
            self.client.get(response["Location"]), "/th/accounts/two-factor/setup/?next=/th/accounts/staff/"
        )


class AgencyAdministratorTests(TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        self.admin = personas.staff("admin", role=StaffRole.ADMINISTRATOR)
        self.officer = personas.staff("officer")
        device = personas.with_totp(self.admin)
        log_in(self.client, "admin")
        self.client.post(SECOND_STEP, {"code": personas.totp_code(device)})

    def test_it_lists_the_agency_staff(self) -> None:
        response = self.client.get(STAFF_PAGE)
        self.assertContains(response, "officer")

    def test_it_ends_the_sessions_of_a_deactivated_colleague_at_once(self) -> None:
        colleague = Client()
        log_in(colleague, "officer")
        self.assertEqual(colleague.get(SESSIONS).status_code, 200)
        self.client.post(f"{STAFF_PAGE}{self.officer.pk}/deactivate/")
        self.assertFalse(Session.objects.filter(user=self.officer).exists())
        self.assertEqual(colleague.get(SESSIONS).status_code, 302)
        self.assertEqual(log_in(Client(), "officer").status_code, 200)
        entry = AuditEntry.objects.get(action="accounts.account_deactivated")
        self.assertEqual((entry.actor_id, entry.subject_id), (self.admin.pk, self.officer.subject_id))

    def test_it_resets_a_colleague_second_factor(self) -> None:
        personas.with_totp(self.officer)
        self.client.post(f"{STAFF_PAGE}{self.officer.pk}/reset-second-factor/")
        self.assertFalse(TOTPDevice.objects.filter(user=self.officer).exists())
        self.assertTrue(AuditEntry.objects.filter(action="accounts.mfa_reset", actor=self.admin).exists())

    def test_it_answers_404_for_staff_of_another_agency(self) -> None:
        from raksa.organisations.models import Agency

        elsewhere = Agency.objects.create(
            slug="other", controller=self.admin.staff.agency.controller, name_th="อื่น", name_en="Other"
        )
        stranger = personas.staff("stranger", agency=elsewhere)
        self.assertEqual(self.client.post(f"{STAFF_PAGE}{stranger.pk}/deactivate/").status_code, 404)
        stranger.refresh_from_db()
        self.assertTrue(stranger.is_active)

    def test_it_is_not_found_for_an_officer(self) -> None:
        device = personas.with_totp(self.officer)
        client = Client()
        log_in(client, "officer")
        client.post(SECOND_STEP, {"code": personas.totp_code(device)})
        self.assertEqual(client.get(STAFF_PAGE).status_code, 404)
