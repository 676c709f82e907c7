import json
import re
import statistics
import time
from datetime import timedelta
from typing import TYPE_CHECKING

import nacl.pwhash
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import Argon2PasswordHasher, make_password
from django.db import IntegrityError, connection
from django.test import Client, RequestFactory, TestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse

from raksa.accounts.actions import find_account
from raksa.accounts.hashers import Argon2idHasher
from raksa.accounts.models import LoginThrottle, Session, User
from raksa.accounts.sessions import STARTED
from raksa.testing import accounts as personas

LOGIN = "/th/accounts/login/"
ACCOUNT = "/th/accounts/"
ARGON2 = ["raksa.accounts.hashers.Argon2idHasher"]


def log_in(
    client: Client, identifier: str, password: str = personas.PASSWORD, address: str = "127.0.0.1"
) -> "_MonkeyPatchedWSGIResponse":
    return client.post(LOGIN, {"identifier": identifier, "password": password}, REMOTE_ADDR=address)


def without_csrf(body: bytes) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body.decode())


class LoginTests(TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        self.user = personas.citizen()

    def test_it_logs_in_with_the_user_id_and_password_a1(self) -> None:
        response = log_in(self.client, "somchai")
        self.assertRedirects(response, ACCOUNT, fetch_redirect_response=False)
        self.assertEqual(self.client.get(ACCOUNT).status_code, 200)

    def test_it_treats_the_user_id_without_regard_to_case_a1(self) -> None:
        self.assertEqual(log_in(self.client, " SomChai ").status_code, 302)

    def test_it_refuses_a_wrong_password_with_a_message_in_thai(self) -> None:
        response = log_in(self.client, "somchai", "wrong password")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "ชื่อผู้ใช้ (หรืออีเมล) และรหัสผ่านไม่ตรงกัน")
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_it_gives_a_new_session_key_at_login_a4(self) -> None:
        session = self.client.session
        session["visited"] = True
        session.save()
        self.client.cookies[settings.SESSION_COOKIE_NAME] = str(session.session_key)
        log_in(self.client, "somchai")
        self.assertNotEqual(self.client.session.session_key, session.session_key)
        self.assertFalse(Session.objects.filter(session_key=session.session_key).exists())

    def test_it_refuses_the_old_cookie_after_logout_a4(self) -> None:
        log_in(self.client, "somchai")
        key = self.client.cookies[settings.SESSION_COOKIE_NAME].value
        response = self.client.post("/th/accounts/logout/")
        self.assertRedirects(response, "/th/accounts/logged-out/", fetch_redirect_response=False)
        self.assertFalse(Session.objects.filter(session_key=key).exists())
        replay = Client()
        replay.cookies[settings.SESSION_COOKIE_NAME] = key
        self.assertRedirects(replay.get(ACCOUNT), f"{LOGIN}?next={ACCOUNT}", fetch_redirect_response=False)

    def test_it_does_not_log_out_on_a_get(self) -> None:
        log_in(self.client, "somchai")
        self.client.get("/th/accounts/logout/")
        self.assertEqual(self.client.get(ACCOUNT).status_code, 200)

    def test_it_sets_a_httponly_samesite_lax_cookie_with_the_citizen_idle_timeout(self) -> None:
        response = log_in(self.client, "somchai")
        cookie = response.cookies[settings.SESSION_COOKIE_NAME]
        self.assertTrue(cookie["httponly"])
        self.assertEqual(cookie["samesite"], "Lax")
        self.assertEqual(int(cookie["max-age"]), settings.RAKSA_SESSION_IDLE_MINUTES * 60)
        session = Session.objects.get(user=self.user)
        remaining = session.expire_date - timezone.now()
        self.assertAlmostEqual(remaining.total_seconds(), settings.RAKSA_SESSION_IDLE_MINUTES * 60, delta=30)

    def test_it_gives_staff_a_shorter_idle_timeout(self) -> None:
        personas.staff("officer")
        log_in(self.client, "officer")
        remaining = Session.objects.get(user__username="officer").expire_date - timezone.now()
        self.assertAlmostEqual(remaining.total_seconds(), settings.RAKSA_STAFF_SESSION_IDLE_MINUTES * 60, delta=30)
        self.assertLess(settings.RAKSA_STAFF_SESSION_IDLE_MINUTES, settings.RAKSA_SESSION_IDLE_MINUTES)
        self.assertLess(settings.RAKSA_STAFF_SESSION_ABSOLUTE_HOURS, settings.RAKSA_SESSION_ABSOLUTE_HOURS)

    def test_it_ends_a_session_after_its_absolute_lifetime_a4(self) -> None:
        log_in(self.client, "somchai")
        session = self.client.session
        session[STARTED] = int(time.time()) - settings.RAKSA_SESSION_ABSOLUTE_HOURS * 3600 - 1
        session.save()
        self.assertEqual(self.client.get(ACCOUNT).status_code, 302)
        self.assertFalse(Session.objects.filter(user=self.user).exists())

    def test_it_ends_an_idle_session_on_the_server(self) -> None:
        log_in(self.client, "somchai")
        Session.objects.filter(user=self.user).update(expire_date=timezone.now() - timedelta(seconds=1))
        self.assertEqual(self.client.get(ACCOUNT).status_code, 302)

    def test_it_refuses_a_deactivated_account(self) -> None:
        self.user.is_active = False
        self.user.save()
        self.assertEqual(log_in(self.client, "somchai").status_code, 200)

    def test_it_answers_a_post_without_csrf_token_in_thai(self) -> None:
        client = Client(enforce_csrf_checks=True)
        response = log_in(client, "somchai")
        self.assertEqual(response.status_code, 403)
        self.assertContains(response, "แบบฟอร์มหมดอายุ", status_code=403)


@override_settings(RAKSA_LOGIN_SLOW_AFTER=3, RAKSA_LOGIN_LOCK_AFTER=5, RAKSA_LOGIN_LOCK_MINUTES=15)
class ThrottleTests(TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        personas.citizen()

    def fail_logins(self, times: int, identifier: str = "somchai") -> None:
        for _attempt in range(times):
            # Each try waits out the slow-down, as a patient attacker would.
            LoginThrottle.objects.update(blocked_until=None)
            log_in(self.client, identifier, "wrong password")

    def test_it_slows_down_repeated_failures(self) -> None:
        self.fail_logins(3)
        response = log_in(self.client, "somchai")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "ลองใหม่ในอีก 1 วินาที")

    def test_it_locks_the_pair_then_lets_it_in_after_the_cool_off(self) -> None:
        self.fail_logins(5)
        blocked_until = LoginThrottle.objects.get().blocked_until
        assert blocked_until is not None
        self.assertAlmostEqual((blocked_until - timezone.now()).total_seconds(), 15 * 60, delta=30)
        self.assertContains(log_in(self.client, "somchai"), "ลองใหม่ในอีก 15 นาที")
        LoginThrottle.objects.update(blocked_until=timezone.now() - timedelta(seconds=1))
        self.assertEqual(log_in(self.client, "somchai").status_code, 302)
        self.assertFalse(LoginThrottle.objects.exists())

    def test_it_lets_the_owner_in_from_another_address_while_locked(self) -> None:
        self.fail_logins(5)
        self.assertEqual(log_in(Client(), "somchai", address="192.0.2.7").status_code, 302)

    def test_it_locks_an_unknown_account_just_like_a_known_one(self) -> None:
        self.fail_logins(5, identifier="nobody")
        self.assertContains(log_in(self.client, "nobody"), "ลองใหม่ในอีก 15 นาที")

    def test_it_counts_the_account_whether_named_by_user_id_or_by_case(self) -> None:
        self.fail_logins(3, identifier="somchai")
        self.fail_logins(2, identifier="SOMCHAI")
        self.assertEqual(LoginThrottle.objects.get().failures, 5)

    def test_it_keeps_no_address_or_user_id_in_the_throttle(self) -> None:
        self.fail_logins(1, identifier="nobody")
        row = LoginThrottle.objects.get()
        for value in (row.account_key, row.address_key):
            self.assertNotIn("nobody", value)
            self.assertNotIn("127.0.0.1", value)


class AccountLookupTests(TestCase):
    databases = "__all__"

    def test_it_refuses_a_second_account_whose_user_id_differs_only_in_case(self) -> None:
        personas.citizen()
        with self.assertRaises(IntegrityError):
            User.objects.create_user("SOMCHAI", "another password")

    def test_it_finds_the_account_by_its_index_before_any_statistics_of_it(self) -> None:
        if connection.vendor != "postgresql":
            self.skipTest("PostgreSQL's planner")
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO accounts_user (id, username, password, is_superuser, is_staff, is_active, date_joined) "
                "SELECT gen_random_uuid(), 'person' || n, '!', false, false, true, now() "
                "FROM generate_series(1, 20000) AS n"
            )
            # A deployment's state after the migration made the index: the table's statistics, none of
            # the index's expression (ANALYZE samples it only when a tenth of the table has changed).
            cursor.execute("ANALYZE accounts_user")
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes "
                "WHERE tablename = 'accounts_user' AND indexdef LIKE '%upper(%'"
            )
            ((index, definition),) = cursor.fetchall()
            # The rows' deferred foreign-key checks would keep the table from being indexed.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f'DROP INDEX "{index}"')
            cursor.execute(definition)
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            with CaptureQueriesContext(connection) as queries:
                found = find_account("Person12345")
            cursor.execute(f"EXPLAIN (FORMAT JSON) {queries[-1]['sql']}")
            plan = cursor.fetchone()[0]
        self.assertEqual(found, User.objects.get(username="person12345"))
        nodes = json.dumps(plan)
        self.assertIn(f'"Index Name": "{index}"', nodes)
        # Not the trap: the primary key walked in order, every account's user ID tested on the way.
        self.assertNotIn('"Filter"', nodes)


class AdminLoginTests(TestCase):
    databases = "__all__"

    def test_it_sends_the_admin_log_in_to_the_site_log_in(self) -> None:
        response = self.client.get(f"/{settings.RAKSA_ADMIN_URL}login/?next=/{settings.RAKSA_ADMIN_URL}")
        self.assertRedirects(response, f"{LOGIN}?next=/{settings.RAKSA_ADMIN_URL}", fetch_redirect_response=False)

    @override_settings(RAKSA_LOGIN_SLOW_AFTER=2)
    def test_it_throttles_django_authenticate_too(self) -> None:
        personas.citizen()
        request = RequestFactory().post(LOGIN)
        for _attempt in range(2):
            self.assertIsNone(authenticate(request, username="somchai", password="wrong"))
        self.assertIsNone(authenticate(request, username="somchai", password=personas.PASSWORD))
        LoginThrottle.objects.update(blocked_until=None)
        self.assertIsNotNone(authenticate(request, username="somchai", password=personas.PASSWORD))

    def test_it_keeps_totp_secrets_out_of_the_admin(self) -> None:
        from django.contrib import admin
        from django_otp.plugins.otp_totp.models import TOTPDevice

        self.assertFalse(admin.site.is_registered(TOTPDevice))


class FormerArgon2id(Argon2PasswordHasher):
    """The parameters Raksa hashed with before (OWASP's m=19 MiB, t=2, p=1), made by Django's code."""

    memory_cost = 19 * 1024
    time_cost = 2
    parallelism = 1


@override_settings(PASSWORD_HASHERS=ARGON2)
class PasswordHashTests(TestCase):
    databases = "__all__"

    def test_it_verifies_the_standard_argon2id_strings_of_either_library_a2(self) -> None:
        hasher = Argon2idHasher()
        by_django = hasher.encode(personas.PASSWORD, hasher.salt())
        by_libsodium = (
            "argon2"
            + nacl.pwhash.argon2id.str(
                personas.PASSWORD.encode(), opslimit=hasher.time_cost, memlimit=hasher.memory_cost * 1024
            ).decode()
        )
        for encoded in (by_django, by_libsodium):
            self.assertTrue(encoded.startswith("argon2$argon2id$v=19$m=7168,t=5,p=1$"), encoded)
            self.assertTrue(hasher.verify(personas.PASSWORD, encoded))
            self.assertFalse(hasher.verify("correct horse battery stapler", encoded))

    def test_it_verifies_an_encoded_hash_longer_than_libsodium_reads_a2(self) -> None:
        """An imported hash with a long salt (over libsodium's 127 bytes) is checked, not a 500."""
        hasher = Argon2idHasher()
        encoded = hasher.encode(personas.PASSWORD, "s" * 80)
        self.assertGreater(len(encoded), 127)
        self.assertTrue(hasher.verify(personas.PASSWORD, encoded))
        self.assertFalse(hasher.verify("correct horse battery stapler", encoded))

    def test_it_makes_a_hash_of_the_former_parameters_again_at_log_in_a2(self) -> None:
        user = personas.citizen()
        former = FormerArgon2id()
        user.password = former.encode(personas.PASSWORD, former.salt())
        user.save()
        self.assertTrue(user.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$"))
        self.assertEqual(log_in(Client(), "somchai", "wrong password").status_code, 200)
        self.assertEqual(User.objects.get().password, user.password)
        self.assertEqual(log_in(Client(), "somchai").status_code, 302)
        self.assertTrue(User.objects.get().password.startswith("argon2$argon2id$v=19$m=7168,t=5,p=1$"))
        self.assertEqual(log_in(Client(), "somchai").status_code, 302)


class EnumerationTests(TestCase):
    databases = "__all__"

    def test_it_answers_known_and_unknown_accounts_alike(self) -> None:
        personas.citizen()
        known = log_in(Client(), "somchai", "wrong password")
        unknown = log_in(Client(), "nobody-here", "wrong password")
        self.assertEqual(known.status_code, unknown.status_code)
        self.assertEqual(
            without_csrf(known.content).replace("somchai", "USER"),
            without_csrf(unknown.content).replace("nobody-here", "USER"),
        )

    @override_settings(PASSWORD_HASHERS=ARGON2, RAKSA_LOGIN_FAILURE_MS=150)
    def test_it_refuses_an_older_dearer_hash_no_later_than_an_unknown_account_a2(self) -> None:
        """A hash of the former parameters costs more to verify than the stand-in an unknown account
        is checked against: every failure waits out the same floor, so neither is told apart."""
        user = personas.citizen()
        former = FormerArgon2id()
        user.password = former.encode(personas.PASSWORD, former.salt())
        user.save()
        for identifier in ("somchai", "nobody-here"):
            LoginThrottle.objects.all().delete()
            start = time.perf_counter()
            log_in(Client(), identifier, "wrong password")
            self.assertGreaterEqual(time.perf_counter() - start, 0.150, identifier)

    @override_settings(PASSWORD_HASHERS=ARGON2)
    def test_it_takes_as_long_for_an_unknown_account(self) -> None:
        personas.citizen()
        make_password("warm up")

        def timed(identifier: str) -> float:
            client = Client()
            start = time.perf_counter()
            log_in(client, identifier, "wrong password")
            return time.perf_counter() - start

        known, unknown = [], []
        for number in range(8):
            LoginThrottle.objects.all().delete()
            known.append(timed("somchai"))
            unknown.append(timed(f"nobody{number}"))
        # Argon2id dominates both: without the dummy hash the unknown case would take a fraction.
        ratio = statistics.median(unknown) / statistics.median(known)
        self.assertGreater(ratio, 0.6, (known, unknown))
        self.assertLess(ratio, 1.6, (known, unknown))
