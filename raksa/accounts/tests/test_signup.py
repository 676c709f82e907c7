import threading
from unittest import mock

from django.db import IntegrityError, connections
from django.test import Client, TestCase, TransactionTestCase, override_settings

from raksa.accounts import actions, addresses
from raksa.accounts.models import User
from raksa.audit.models import AuditEntry
from raksa.consent.models import PolicyAcceptance
from raksa.subjects.models import Subject
from raksa.testing import accounts as personas
from raksa.testing.mailbox import links, running
from raksa.vault.actions import ValueTakenError

SIGNUP = "/th/accounts/signup/"
DONE = "/th/accounts/signup/done/"
EMAIL = "somchai@example.org"
PASSWORD = "rice fields at dawn"


def sign_up(client: Client, username: str = "somchai", email: str = EMAIL, password: str = PASSWORD, **extra: object):
    data = {"username": username, "email": email, "password": password, "accept_policy": "on"}
    return client.post(SIGNUP, {**data, "policy": personas.platform_policy().pk, **extra})


def every_stored_byte() -> bytes:
    """Every row of every table of both databases, as text: what a stolen backup would hold."""
    dump = []
    for alias in ("default", "keystore"):
        connection = connections[alias]
        with connection.cursor() as cursor:
            for table in connection.introspection.table_names(cursor):
                cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
                dump += [repr(row) for row in cursor.fetchall()]
    return "\n".join(dump).encode()


@override_settings(TASKS=personas.IMMEDIATE_TASKS)
class SignupTests(TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        personas.platform_operator()
        self.policy = personas.platform_policy()
        self.mailbox = running()
        self.mailbox.clear()

    def test_it_creates_an_account_and_confirms_the_address_by_a_link_a1(self) -> None:
        self.assertRedirects(sign_up(self.client), DONE)
        user = User.objects.get(username="somchai")
        self.assertFalse(user.email_confirmed)
        acceptance = PolicyAcceptance.objects.get(subject=user.subject)
        self.assertEqual((acceptance.version, acceptance.kind), (self.policy, "accepted"))
        [message] = self.mailbox.received(to=EMAIL)
        [link] = links(message)
        self.assertIn("/th/accounts/confirm/", link)
        page = self.client.get(link)
        self.assertContains(page, "ยืนยันอีเมลของฉัน")
        self.assertFalse(User.objects.get(pk=user.pk).email_confirmed, "opening the link alone confirms nothing")
        self.assertContains(self.client.post(link), "ยืนยันอีเมลเรียบร้อยแล้ว")
        self.assertTrue(User.objects.get(pk=user.pk).email_confirmed)
        self.assertContains(self.client.post(link), "ลิงก์นี้ใช้ไม่ได้แล้ว", status_code=400)
        actions_recorded = set(AuditEntry.objects.filter(subject=user.subject).values_list("action", flat=True))
        self.assertLessEqual({"accounts.account_created", "accounts.email_confirmed"}, actions_recorded)

    def test_it_logs_in_by_email_too_a1(self) -> None:
        sign_up(self.client)
        response = Client().post("/th/accounts/login/", {"identifier": " SomChai@Example.org ", "password": PASSWORD})
        self.assertEqual(response.status_code, 302)

    @override_settings(PASSWORD_HASHERS=["raksa.accounts.hashers.Argon2idHasher"])
    def test_it_keeps_an_argon2id_hash_and_no_plaintext_anywhere_a2(self) -> None:
        sign_up(self.client)
        user = User.objects.get(username="somchai")
        self.assertTrue(user.password.startswith("argon2$argon2id$v=19$m=7168,t=5,p=1$"), user.password)
        stored = every_stored_byte()
        self.assertNotIn(PASSWORD.encode(), stored)
        self.assertNotIn(EMAIL.encode(), stored)
        self.assertEqual(addresses.open_for_owner(user), EMAIL)

    def test_it_gives_a_taken_user_id_a_field_error_in_thai(self) -> None:
        sign_up(self.client)
        response = sign_up(Client(), username="SOMCHAI", email="other@example.org")
        self.assertContains(response, 'id="id_username_error">ชื่อผู้ใช้นี้มีผู้ใช้แล้ว')
        self.assertEqual(User.objects.count(), 1)

    def test_it_answers_a_registered_address_like_a_new_one_and_mails_its_owner_a_notice(self) -> None:
        sign_up(self.client)
        self.mailbox.clear()
        response = sign_up(Client(), username="intruder")
        self.assertRedirects(response, DONE)
        self.assertFalse(User.objects.filter(username="intruder").exists())
        [notice] = self.mailbox.received(to=EMAIL)
        self.assertEqual(links(notice), ["http://testserver"])
        self.assertIn("somchai", notice.get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]

    def test_it_explains_each_bad_field_and_saves_nothing(self) -> None:
        subjects = Subject.objects.count()
        response = self.client.post(SIGNUP, {"username": "bad name!", "email": "not-an-address", "password": "123"})
        self.assertContains(response, 'id="id_username_error">ชื่อผู้ใช้ไม่ถูกต้อง')
        self.assertContains(response, 'id="id_email_error">ป้อนที่อยู่อีเมลที่ถูกต้อง')
        self.assertContains(response, 'id="id_password_error">รหัสผ่านนี้สั้นเกินไป')
        self.assertContains(response, 'id="id_accept_policy_error">กรุณากรอกข้อมูลช่องนี้')
        self.assertEqual((User.objects.count(), Subject.objects.count()), (0, subjects))
        self.assertEqual(self.mailbox.received(), [])

    def test_it_refuses_a_password_like_the_user_id(self) -> None:
        self.assertContains(sign_up(self.client, username="somchai2026", password="somchai2026"), "คล้ายกับชื่อผู้ใช้")

    def test_it_leaves_nothing_behind_when_the_save_fails_half_way(self) -> None:
        sign_up(self.client)
        subjects = Subject.objects.count()
        with self.assertRaises(IntegrityError):
            actions.create_account(
                username="somchai",
                email="second@example.org",
                password=PASSWORD,
                policy=personas.platform_policy(),
                origin="http://testserver",
                language="th",
            )
        self.assertEqual(Subject.objects.count(), subjects)
        self.assertIsNone(addresses.find_user("second@example.org"))

    def test_it_leaves_no_sealed_address_or_index_when_a_later_step_fails(self) -> None:
        from raksa.consent.actions import PolicyFrozenError, start_policy_draft
        from raksa.vault.models import BlindIndex, DataKey

        draft = start_policy_draft(agency=None, actor=None)
        indexes, keys = BlindIndex.objects.using("keystore").count(), DataKey.objects.using("keystore").count()
        with self.assertRaises(PolicyFrozenError):
            actions.create_account(
                username="halfway",
                email="halfway@example.org",
                password=PASSWORD,
                policy=draft,
                origin="http://testserver",
                language="th",
            )
        self.assertFalse(User.objects.filter(username="halfway").exists())
        self.assertIsNone(addresses.find_user("halfway@example.org"))
        self.assertEqual(BlindIndex.objects.using("keystore").count(), indexes)
        self.assertEqual(DataKey.objects.using("keystore").count(), keys)

    def test_it_marks_the_required_fields_and_names_the_policy_version(self) -> None:
        response = self.client.get(SIGNUP)
        self.assertContains(response, '<span class="required" aria-hidden="true">*</span>', count=4)
        self.assertContains(response, f"ฉบับที่ {self.policy.number}")
        self.assertContains(response, 'href="/th/privacy/"')

    def test_it_asks_again_when_the_policy_changed_while_the_form_was_open(self) -> None:
        response = sign_up(self.client, policy=self.policy.pk + 1000)
        self.assertContains(response, 'id="id_accept_policy_error">')
        self.assertFalse(User.objects.exists())

    def test_it_asks_for_nothing_before_a_policy_is_published(self) -> None:
        from raksa.consent.models import PolicyVersion

        PolicyVersion.objects.all().delete()
        response = self.client.get(SIGNUP)
        self.assertEqual(response.status_code, 503)
        self.assertNotContains(response, 'name="email"', status_code=503)

    def test_it_speaks_english_on_the_english_site(self) -> None:
        response = self.client.post("/en/accounts/signup/", {"username": "", "email": "x", "password": "1"})
        self.assertContains(response, "This field is required.")
        self.assertContains(response, "Enter a valid email address.")


class SimultaneousSignupTests(TransactionTestCase):
    """Two sign-ups with one address at the same moment: one account, and the same answer to both."""

    databases = "__all__"

    def test_it_keeps_one_account_per_address_even_when_two_sign_up_at_once(self) -> None:
        if connections["default"].vendor != "postgresql":
            self.skipTest("SQLite lets one writer in at a time: the second sign-up finds the first's address")
        personas.platform_operator()
        policy = personas.platform_policy()
        both_looked = threading.Barrier(2, timeout=30)
        looked_up = []
        real_find_user = addresses.find_user

        def find_user_then_wait(email: str) -> User | None:
            # Both sign-ups look the address up before either saves it: the race a busy server has.
            found = real_find_user(email)
            looked_up.append(found)
            if len(looked_up) <= 2:
                both_looked.wait()
            return found

        failures: list[BaseException] = []

        def sign_up_as(username: str) -> None:
            try:
                actions.create_account(
                    username=username, email=EMAIL, password=PASSWORD, policy=policy, origin="http://t", language="th"
                )
            except BaseException as error:
                failures.append(error)
            finally:
                connections.close_all()

        with (
            override_settings(TASKS=personas.IMMEDIATE_TASKS),
            mock.patch.object(addresses, "find_user", find_user_then_wait),
        ):
            threads = [threading.Thread(target=sign_up_as, args=(name,)) for name in ("somchai", "somchai_two")]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        self.assertEqual(failures, [])
        self.assertEqual(looked_up[:2], [None, None])
        owner = addresses.find_user(EMAIL)
        assert owner is not None
        self.assertEqual(User.objects.filter(is_staff=False).exclude(pk=owner.pk).count(), 0)
        self.assertEqual(AuditEntry.objects.filter(action="accounts.signup_existing_email").count(), 1)

    def test_it_refuses_a_second_row_with_an_address_another_account_has(self) -> None:
        personas.platform_operator()
        first, second = personas.citizen("first"), personas.citizen("second")
        addresses.replace(first, "same@example.org")
        with self.assertRaises(ValueTakenError):
            addresses.replace(second, " SAME@example.org")
        self.assertEqual(addresses.find_user("same@example.org"), first)
