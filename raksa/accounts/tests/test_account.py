import io
from datetime import timedelta

from django.core.management import call_command
from django.test import TestCase, override_settings
from django.utils import timezone

from raksa.accounts.checks import at_an_owasp_minimum, check_accounts
from raksa.accounts.hashers import OWASP_ARGON2ID_MINIMUMS, Argon2idHasher
from raksa.accounts.models import AccountToken, LoginThrottle, TokenPurpose
from raksa.accounts.tokens import issue
from raksa.testing import accounts as personas

ACCOUNT = "/th/accounts/"


class AccountPageTests(TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        self.user = personas.citizen()
        self.client.post("/th/accounts/login/", {"identifier": "somchai", "password": personas.PASSWORD})

    @override_settings(RAKSA_PASSWORD_REMINDER_DAYS=180)
    def test_it_reminds_gently_when_the_password_is_old_a3(self) -> None:
        self.assertNotContains(self.client.get(ACCOUNT), "รหัสผ่านของท่านใช้มาแล้ว")
        self.user.password_changed_at = timezone.now() - timedelta(days=200)
        self.user.save()
        response = self.client.get(ACCOUNT)
        self.assertContains(response, "รหัสผ่านของท่านใช้มาแล้ว 200 วัน")
        # A reminder, not a forced rotation: the account page itself still works.
        self.assertContains(response, "บัญชีของฉัน")

    def test_it_encourages_the_second_factor(self) -> None:
        self.assertContains(self.client.get(ACCOUNT), "เปิดการเข้าสู่ระบบสองขั้นตอน")

    def test_it_shows_the_user_id_and_that_the_address_is_unconfirmed(self) -> None:
        response = self.client.get(ACCOUNT)
        self.assertContains(response, "<dd>somchai</dd>", html=False)
        self.assertContains(response, "ยังไม่ยืนยัน")


class DeploymentCheckTests(TestCase):
    databases = "__all__"

    def test_it_passes_with_the_configured_settings(self) -> None:
        with self.settings(PASSWORD_HASHERS=["raksa.accounts.hashers.Argon2idHasher"]):
            self.assertEqual(check_accounts(), [])

    def test_it_refuses_a_weak_hasher_a2(self) -> None:
        with self.settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            self.assertEqual([error.id for error in check_accounts()], ["accounts.E001"])

    def test_it_accepts_each_of_owasps_argon2id_minimums_and_nothing_below_a2(self) -> None:
        for (memory, passes), accepted in [
            *[(minimum, True) for minimum in OWASP_ARGON2ID_MINIMUMS],
            ((7 * 1024, 4), False),
            ((19 * 1024, 1), False),
            ((46 * 1024 - 1, 1), False),
        ]:
            hasher = type("Tried", (Argon2idHasher,), {"memory_cost": memory, "time_cost": passes})()
            with self.subTest(memory=memory, passes=passes):
                self.assertEqual(at_an_owasp_minimum(hasher), accepted)

    def test_it_refuses_a_reset_link_longer_than_an_hour_a3(self) -> None:
        with self.settings(PASSWORD_HASHERS=["raksa.accounts.hashers.Argon2idHasher"], RAKSA_RESET_LINK_MINUTES=61):
            self.assertEqual([error.id for error in check_accounts()], ["accounts.E002"])


class CleanupCommandTests(TestCase):
    databases = "__all__"

    def test_it_deletes_dead_links_and_forgotten_failures_only(self) -> None:
        user = personas.citizen()
        issue(user=user, purpose=TokenPurpose.CONFIRM_EMAIL)
        issue(user=user, purpose=TokenPurpose.RESET_PASSWORD)
        AccountToken.objects.filter(purpose=TokenPurpose.CONFIRM_EMAIL).update(expires_at=timezone.now())
        now = timezone.now()
        LoginThrottle.objects.create(
            account_key="a", address_key="b", failures=2, last_failure_at=now - timedelta(days=2)
        )
        LoginThrottle.objects.create(account_key="c", address_key="d", failures=2, last_failure_at=now)
        call_command(
            "retention",
            "run",
            "--rule",
            "accounts.accounttoken",
            "--rule",
            "accounts.loginthrottle",
            stdout=io.StringIO(),
        )
        self.assertEqual(list(AccountToken.objects.values_list("purpose", flat=True)), [TokenPurpose.RESET_PASSWORD])
        self.assertEqual(list(LoginThrottle.objects.values_list("account_key", flat=True)), ["c"])
