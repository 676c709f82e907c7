from datetime import timedelta

from django.test import Client, TestCase, override_settings
from django.utils import timezone

from raksa.accounts import actions
from raksa.accounts.models import AccountToken, Session, TokenPurpose
from raksa.audit.models import AuditEntry
from raksa.testing import accounts as personas
from raksa.testing.mailbox import links, running

FORGOT = "/th/accounts/password/forgot/"
SENT = "/th/accounts/password/forgot/sent/"
SET_PASSWORD = "/th/accounts/password/reset/"
EMAIL = "malee@example.org"
NEW_PASSWORD = "a new and different passphrase"


@override_settings(TASKS=personas.IMMEDIATE_TASKS)
class PasswordResetTests(TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        personas.platform_operator()
        self.policy = personas.platform_policy()
        actions.create_account(
            username="malee",
            email=EMAIL,
            password=personas.PASSWORD,
            policy=personas.platform_policy(),
            origin="http://testserver",
            language="th",
        )
        self.mailbox = running()
        self.mailbox.clear()

    def reset_link(self) -> str:
        self.assertRedirects(self.client.post(FORGOT, {"email": EMAIL}), SENT)
        [message] = self.mailbox.received(to=EMAIL)
        [link] = links(message)
        return link

    def test_it_mails_a_single_use_link_and_ends_every_session_a3(self) -> None:
        elsewhere = Client()
        elsewhere.post("/th/accounts/login/", {"identifier": "malee", "password": personas.PASSWORD})
        link = self.reset_link()
        landing = self.client.get(link)
        # The token leaves the address bar at once: the form's page has none, nor a Referer from it.
        self.assertRedirects(landing, SET_PASSWORD, fetch_redirect_response=False)
        token = link.rstrip("/").rsplit("/", 1)[-1]
        form = self.client.get(SET_PASSWORD)
        self.assertNotContains(form, token)
        self.assertContains(self.client.post(SET_PASSWORD, {"password": NEW_PASSWORD}), "ตั้งรหัสผ่านใหม่เรียบร้อยแล้ว")
        self.assertFalse(Session.objects.filter(user__username="malee").exists())
        self.assertEqual(elsewhere.get("/th/accounts/sessions/").status_code, 302)
        login = Client().post("/th/accounts/login/", {"identifier": EMAIL, "password": NEW_PASSWORD})
        self.assertEqual(login.status_code, 302)
        self.assertContains(Client().get(link), "ลิงก์นี้ใช้ไม่ได้แล้ว", status_code=400)
        recorded = set(AuditEntry.objects.values_list("action", flat=True))
        self.assertLessEqual({"accounts.password_reset_requested", "accounts.password_reset_completed"}, recorded)
        for values in AuditEntry.objects.values_list("object_id", "fields", "purpose", "request_id"):
            self.assertNotIn(token, "".join(values))

    def test_it_expires_the_link_within_an_hour_a3(self) -> None:
        link = self.reset_link()
        token = AccountToken.objects.get(purpose=TokenPurpose.RESET_PASSWORD)
        self.assertLessEqual(token.expires_at - token.created_at, timedelta(hours=1))
        AccountToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
        self.assertContains(self.client.get(link), "ลิงก์หมดอายุหรือถูกใช้ไปแล้ว", status_code=400)

    def test_it_stops_a_link_that_expires_while_the_form_is_open(self) -> None:
        self.client.get(self.reset_link())
        AccountToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
        self.assertContains(
            self.client.post(SET_PASSWORD, {"password": NEW_PASSWORD}), "ลิงก์นี้ใช้ไม่ได้แล้ว", status_code=400
        )

    def test_it_keeps_only_the_newest_link_working(self) -> None:
        first = self.reset_link()
        self.mailbox.clear()
        second = self.reset_link()
        self.assertEqual(self.client.get(first).status_code, 400)
        self.assertEqual(self.client.get(second).status_code, 302)

    def test_it_answers_an_unknown_address_the_same_way_and_mails_nothing(self) -> None:
        known = self.client.post(FORGOT, {"email": EMAIL}, follow=True)
        unknown = Client().post(FORGOT, {"email": "nobody@example.org"}, follow=True)
        self.assertEqual(known.redirect_chain, unknown.redirect_chain)
        self.assertEqual(known.content, unknown.content)
        self.assertEqual(self.mailbox.received(to="nobody@example.org"), [])

    def test_it_refuses_the_current_password_as_the_new_one(self) -> None:
        self.client.get(self.reset_link())
        response = self.client.post(SET_PASSWORD, {"password": personas.PASSWORD})
        self.assertContains(response, "ท่านเคยใช้รหัสผ่านนี้แล้ว")

    def test_it_writes_no_token_to_any_log(self) -> None:
        link = self.reset_link()
        token = link.rstrip("/").rsplit("/", 1)[-1]
        with self.assertLogs(level="DEBUG") as captured:
            import logging

            logging.getLogger("raksa.test").debug("marker")
            self.client.get(link)
            self.client.post(SET_PASSWORD, {"password": NEW_PASSWORD})
            Client().get(link)
        self.assertNotIn(token, "\n".join(captured.output))
