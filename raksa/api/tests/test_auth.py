"""Creating an account, logging in, tokens and passwords through the API: the web's rules, the web's actions."""

import re
from datetime import timedelta
from typing import Any

from django.test import Client, override_settings
from django.utils import timezone

from raksa.accounts import actions
from raksa.accounts.models import AppToken, User
from raksa.api.tests.client import ApiTestCase
from raksa.audit.models import AuditEntry
from raksa.consent.models import PolicyAcceptance
from raksa.testing import accounts as personas
from raksa.testing.mailbox import links, running

EMAIL = "malee@example.org"
NEW_PASSWORD = "a new and different passphrase"


@override_settings(TASKS=personas.IMMEDIATE_TASKS)
class RegisterTests(ApiTestCase):
    def register(self, **changes: object) -> Any:
        body = {
            "username": "malee",
            "email": EMAIL,
            "password": personas.PASSWORD,
            "accepted_policy_version": self.policy.number,
            **changes,
        }
        return self.call("POST", "/auth/register", body)

    def test_it_creates_the_account_with_the_policy_accepted_in_the_app(self) -> None:
        running().clear()
        response = self.register()
        self.assertEqual(response.status_code, 202)
        user = User.objects.get(username="malee")
        acceptance = PolicyAcceptance.objects.get(subject=user.subject)
        self.assertEqual((acceptance.version, acceptance.channel), (self.policy, "app"))
        [message] = running().received(to=EMAIL)
        self.assertTrue(links(message))
        self.assertIn("accounts.account_created", AuditEntry.objects.values_list("action", flat=True))

    def test_it_answers_the_same_for_an_address_that_has_an_account(self) -> None:
        first = self.register()
        again = self.register(username="someone-else")
        self.assertEqual((again.status_code, again.json()), (first.status_code, first.json()))
        self.assertFalse(User.objects.filter(username="someone-else").exists())

    def test_it_refuses_a_policy_version_other_than_the_one_in_force(self) -> None:
        newer = (self.policy.number or 0) + 1
        body = self.assertProblem(self.register(accepted_policy_version=newer), 422, "invalid-input")
        self.assertIn("accepted_policy_version", self.field_errors(body))
        self.assertFalse(User.objects.exists())

    def test_it_answers_field_by_field_as_the_web_form(self) -> None:
        personas.citizen("Malee")
        body = self.assertProblem(self.register(email="not an address", password="123"), 422, "invalid-input")
        self.assertEqual(set(self.field_errors(body)), {"username", "email", "password"})
        self.assertEqual(User.objects.count(), 1)


class LoginTests(ApiTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.user = personas.citizen("malee")

    def test_it_returns_an_expiring_token_stored_only_as_its_hash(self) -> None:
        response = self.call("POST", "/auth/login", {"username": "MALEE", "password": personas.PASSWORD})
        self.assertEqual(response.status_code, 200)
        token = response.json()["token"]
        stored = AppToken.objects.get(user=self.user)
        self.assertNotEqual(stored.digest, token)
        self.assertNotIn(token, stored.digest)
        self.assertGreaterEqual(len(token), 43)  # 32 random bytes
        self.assertAlmostEqual(stored.expires_at, timezone.now() + timedelta(hours=720), delta=timedelta(minutes=1))
        me = self.call("GET", "/me", token=token)
        self.assertEqual(me.json()["username"], "malee")

    def test_it_answers_a_wrong_password_and_an_unknown_account_alike(self) -> None:
        wrong = self.call("POST", "/auth/login", {"username": "malee", "password": "wrong password"})
        unknown = self.call("POST", "/auth/login", {"username": "nobody", "password": "wrong password"})
        self.assertProblem(wrong, 401, "unauthenticated")
        self.assertEqual(wrong.content, unknown.content)

    @override_settings(RAKSA_LOGIN_SLOW_AFTER=10, RAKSA_LOGIN_LOCK_AFTER=3, RAKSA_LOGIN_LOCK_MINUTES=15)
    def test_it_locks_out_as_the_web_does_with_retry_after(self) -> None:
        for _attempt in range(3):
            self.call("POST", "/auth/login", {"username": "malee", "password": "wrong password"})
        # Locked now, even with the right password, on the web as in the app.
        locked = self.call("POST", "/auth/login", {"username": "malee", "password": personas.PASSWORD})
        self.assertProblem(locked, 429, "too-many-requests")
        self.assertGreater(int(locked["Retry-After"]), 60)
        web = Client().post("/en/accounts/login/", {"identifier": "malee", "password": personas.PASSWORD})
        self.assertEqual(web.status_code, 200)  # the web's form again, not a log-in
        self.assertIn("accounts.login_locked", AuditEntry.objects.values_list("action", flat=True))

    def test_it_asks_for_the_second_factor_of_an_account_that_has_one(self) -> None:
        device = personas.with_totp(self.user)
        missing = self.call("POST", "/auth/login", {"username": "malee", "password": personas.PASSWORD})
        self.assertIn("code", self.field_errors(self.assertProblem(missing, 422, "invalid-input")))
        self.assertFalse(AppToken.objects.exists())
        body = {"username": "malee", "password": personas.PASSWORD, "code": personas.totp_code(device)}
        self.assertEqual(self.call("POST", "/auth/login", body).status_code, 200)


class TokenLifetimeTests(ApiTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.user = personas.citizen("malee")
        self.token = self.token_for(self.user)

    def assertRefused(self, token: str) -> None:  # noqa: N802
        response = self.call("GET", "/me", token=token)
        self.assertProblem(response, 401, "unauthenticated")
        self.assertEqual(response["WWW-Authenticate"], "Bearer")

    def test_it_refuses_a_missing_or_made_up_token(self) -> None:
        self.assertProblem(self.call("GET", "/me"), 401, "unauthenticated")
        self.assertRefused("made-up")

    def test_it_refuses_an_expired_token(self) -> None:
        AppToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
        self.assertRefused(self.token)

    @override_settings(RAKSA_APP_TOKEN_IDLE_HOURS=24)
    def test_it_refuses_a_token_left_unused_for_the_idle_timeout(self) -> None:
        AppToken.objects.update(last_used_at=timezone.now() - timedelta(hours=23))
        self.assertEqual(self.call("GET", "/me", token=self.token).status_code, 200)
        # Using it counted: it is a fresh day again.
        self.assertGreater(AppToken.objects.get().last_used_at, timezone.now() - timedelta(minutes=1))
        AppToken.objects.update(last_used_at=timezone.now() - timedelta(hours=24, seconds=1))
        self.assertRefused(self.token)

    def test_it_lists_the_app_on_the_websites_sessions_page_and_ends_it_there(self) -> None:
        self.token_for(self.user)  # a second phone
        AppToken.objects.update(platform="Android")
        web = Client()
        web.post("/en/accounts/login/", {"identifier": "malee", "password": personas.PASSWORD})
        page = web.get("/en/accounts/sessions/").content.decode()
        self.assertEqual(page.count("Mobile application"), 2)
        self.assertIn("Android", page)
        ids = re.findall(r'name="end" value="([0-9a-f]{24})"', page)
        self.assertEqual(len(ids), 3)
        for digest in AppToken.objects.values_list("digest", flat=True):
            self.assertNotIn(digest, page)
        web.post("/en/accounts/sessions/", {"end": ids[-1]})  # the browser's session is listed first
        self.assertEqual(AppToken.objects.count(), 1)
        self.assertTrue(AuditEntry.objects.filter(action="accounts.session_ended", actor=self.user).exists())
        self.assertEqual(web.get("/en/accounts/").status_code, 200)  # the browser's own session carried on

    def test_it_revokes_the_token_at_logout(self) -> None:
        self.assertEqual(self.call("POST", "/auth/logout", token=self.token).status_code, 204)
        self.assertRefused(self.token)
        self.assertIn("accounts.app_logout", AuditEntry.objects.values_list("action", flat=True))

    def test_it_revokes_every_token_at_a_password_change_in_the_app(self) -> None:
        other = self.token_for(self.user)
        body = {"current_password": personas.PASSWORD, "password": NEW_PASSWORD}
        self.assertEqual(self.call("POST", "/auth/password/change", body, token=self.token).status_code, 204)
        self.assertRefused(self.token)
        self.assertRefused(other)
        self.token_for(self.user, NEW_PASSWORD)

    def test_it_refuses_a_wrong_current_password_field_by_field(self) -> None:
        body = {"current_password": "not it at all", "password": NEW_PASSWORD}
        problem = self.assertProblem(
            self.call("POST", "/auth/password/change", body, token=self.token), 422, "invalid-input"
        )
        self.assertIn("current_password", self.field_errors(problem))
        self.assertEqual(self.call("GET", "/me", token=self.token).status_code, 200)

    def test_it_revokes_app_tokens_when_the_password_changes_on_the_web(self) -> None:
        web = Client()
        web.force_login(self.user)
        web.post("/en/accounts/password/", {"current_password": personas.PASSWORD, "password": NEW_PASSWORD})
        self.assertRefused(self.token)

    @override_settings(TASKS=personas.IMMEDIATE_TASKS)
    def test_it_resets_a_password_with_the_mailed_token_and_revokes_tokens(self) -> None:
        from raksa.accounts.addresses import store

        store(self.user, EMAIL)
        running().clear()
        self.assertEqual(self.call("POST", "/auth/password/forgot", {"email": EMAIL}).status_code, 202)
        unknown = self.call("POST", "/auth/password/forgot", {"email": "nobody@example.org"})
        self.assertEqual(unknown.status_code, 202)
        [message] = running().received(to=EMAIL)
        [link] = links(message)
        reset_token = link.rstrip("/").rsplit("/", 1)[-1]
        weak = self.call("POST", "/auth/password/reset", {"token": reset_token, "password": "malee"})
        self.assertIn("password", self.field_errors(self.assertProblem(weak, 422, "invalid-input")))
        done = self.call("POST", "/auth/password/reset", {"token": reset_token, "password": NEW_PASSWORD})
        self.assertEqual(done.status_code, 204)
        self.assertRefused(self.token)
        again = self.call("POST", "/auth/password/reset", {"token": reset_token, "password": NEW_PASSWORD})
        self.assertIn("token", self.field_errors(self.assertProblem(again, 422, "invalid-input")))
        self.token_for(self.user, NEW_PASSWORD)

    def test_it_ends_app_tokens_when_the_account_is_deactivated(self) -> None:
        actions.deactivate_account(actor=None, user=self.user)
        self.assertRefused(self.token)


class SessionTests(ApiTestCase):
    def test_it_serves_the_sites_own_scripts_by_session_with_csrf(self) -> None:
        user = personas.citizen("malee")
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(user)
        self.assertEqual(self.call("GET", "/me", client=browser).json()["username"], "malee")
        refused = self.call("POST", "/auth/logout", client=browser)
        self.assertProblem(refused, 403, "forbidden")
        browser.get("/en/accounts/")  # any page sets the CSRF cookie
        csrf = browser.cookies["csrftoken"].value
        done = browser.post("/api/v1/auth/logout", headers={"X-CSRFToken": csrf})
        self.assertEqual(done.status_code, 204)
        self.assertProblem(self.call("GET", "/me", client=browser), 401, "unauthenticated")


class OtherSchemeTests(ApiTestCase):
    def test_it_refuses_other_authorization_schemes_without_logging_them(self) -> None:
        personas.citizen("malee")
        with self.settings(DEBUG=True), self.assertNoLogs(level="ERROR"):
            refused = self.api.get("/api/v1/me", headers={"Authorization": "Basic bWFsZWU6c2VjcmV0"})
        self.assertProblem(refused, 401, "unauthenticated")
