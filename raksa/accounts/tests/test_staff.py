import io

from django.core.management import CommandError, call_command
from django.test import Client, TestCase, override_settings

from raksa.accounts.models import User
from raksa.audit.models import AuditEntry
from raksa.organisations.models import StaffMembership, StaffRole
from raksa.testing import accounts as personas
from raksa.testing.mailbox import links, running

STAFF_PAGE = "/th/accounts/staff/"
SECOND_STEP = "/th/accounts/login/second-factor/"


@override_settings(TASKS=personas.IMMEDIATE_TASKS)
class StaffAccountTests(TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        personas.platform_operator()
        self.policy = personas.platform_policy()
        self.admin = personas.staff("admin", role=StaffRole.ADMINISTRATOR)
        device = personas.with_totp(self.admin)
        self.client.post("/th/accounts/login/", {"identifier": "admin", "password": personas.PASSWORD})
        self.client.post(SECOND_STEP, {"code": personas.totp_code(device)})
        self.mailbox = running()
        self.mailbox.clear()

    def test_it_lets_an_agency_administrator_create_staff_who_set_their_own_password(self) -> None:
        response = self.client.post(
            STAFF_PAGE, {"username": "clerk", "email": "clerk@minburi.example", "role": StaffRole.OFFICER}
        )
        self.assertRedirects(response, STAFF_PAGE)
        clerk = User.objects.get(username="clerk")
        self.assertTrue(clerk.is_staff)
        self.assertFalse(clerk.has_usable_password())
        self.assertEqual(StaffMembership.objects.get(user=clerk).agency, self.admin.staff.agency)
        entry = AuditEntry.objects.get(action="accounts.staff_created")
        self.assertEqual((entry.actor_id, entry.subject_id), (self.admin.pk, clerk.subject_id))

        [invitation] = self.mailbox.received(to="clerk@minburi.example")
        [link] = links(invitation)
        newcomer = Client()
        self.assertRedirects(newcomer.get(link), "/th/accounts/password/reset/", fetch_redirect_response=False)
        newcomer.post("/th/accounts/password/reset/", {"password": "my first staff passphrase"})
        login = newcomer.post("/th/accounts/login/", {"identifier": "clerk", "password": "my first staff passphrase"})
        self.assertEqual(login.status_code, 302)

    def test_it_refuses_a_taken_user_id_or_address_field_by_field(self) -> None:
        self.client.post(STAFF_PAGE, {"username": "clerk", "email": "clerk@minburi.example", "role": StaffRole.OFFICER})
        response = self.client.post(
            STAFF_PAGE, {"username": "Clerk", "email": "CLERK@minburi.example", "role": StaffRole.OFFICER}
        )
        self.assertContains(response, 'id="id_username_error">ชื่อผู้ใช้นี้มีผู้ใช้แล้ว')
        self.assertContains(response, 'id="id_email_error">อีเมลนี้มีบัญชีอยู่แล้ว')
        self.assertEqual(User.objects.filter(username__iexact="clerk").count(), 1)

    def test_it_has_no_self_registration_for_staff(self) -> None:
        self.client.post("/th/accounts/logout/")
        Client().post(
            "/th/accounts/signup/",
            {
                "username": "walkin",
                "email": "w@example.org",
                "password": "a fine passphrase",
                "accept_policy": "on",
                "policy": self.policy.pk,
            },
        )
        self.assertFalse(User.objects.get(username="walkin").is_staff)


@override_settings(TASKS=personas.IMMEDIATE_TASKS)
class StaffCommandTests(TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        personas.platform_operator()
        self.policy = personas.platform_policy()
        self.agency = personas.staff("someone").staff.agency
        running().clear()

    def test_it_creates_an_agency_administrator_and_mails_the_link(self) -> None:
        out = io.StringIO()
        call_command(
            "create_staff",
            "--agency",
            self.agency.slug,
            "--role",
            "administrator",
            "--username",
            "first.admin",
            "--email",
            "admin@minburi.example",
            "--site-url",
            "https://e-service.example.go.th",
            stdout=out,
        )
        self.assertIn("first.admin", out.getvalue())
        [invitation] = running().received(to="admin@minburi.example")
        self.assertTrue(links(invitation)[0].startswith("https://e-service.example.go.th/th/accounts/password/reset/"))

    def test_it_explains_bad_input(self) -> None:
        with self.assertRaisesMessage(CommandError, "email"):
            call_command(
                "create_staff", "--agency", self.agency.slug, "--role", "officer", "--username", "x", "--email", "no"
            )
        with self.assertRaisesMessage(CommandError, "no agency"):
            call_command(
                "create_staff", "--agency", "nowhere", "--role", "officer", "--username", "x", "--email", "x@y.z"
            )

    def test_it_deactivates_an_account_and_ends_its_sessions(self) -> None:
        client = Client()
        client.post("/th/accounts/login/", {"identifier": "someone", "password": personas.PASSWORD})
        call_command("deactivate_account", "someone", stdout=io.StringIO())
        self.assertEqual(client.get("/th/accounts/sessions/").status_code, 302)
        self.assertFalse(User.objects.get(username="someone").is_active)
