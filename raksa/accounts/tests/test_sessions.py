import re

from django.conf import settings
from django.test import Client, TestCase

from raksa.accounts.models import Session
from raksa.audit.models import AuditEntry
from raksa.testing import accounts as personas

LOGIN = "/th/accounts/login/"
ACCOUNT = "/th/accounts/"
SESSIONS = "/th/accounts/sessions/"
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1"
)


def signed_in(user_agent: str, identifier: str = "somchai") -> Client:
    client = Client(HTTP_USER_AGENT=user_agent)
    response = client.post(LOGIN, {"identifier": identifier, "password": personas.PASSWORD})
    assert response.status_code == 302, response.content
    return client


class SessionsPageTests(TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        self.user = personas.citizen()
        self.laptop = signed_in(FIREFOX_LINUX)
        self.phone = signed_in(SAFARI_IPHONE)

    def test_it_lists_each_session_with_browser_device_and_last_seen(self) -> None:
        response = self.laptop.get(SESSIONS)
        self.assertContains(response, "Firefox 140")
        self.assertContains(response, "Linux คอมพิวเตอร์")
        self.assertContains(response, "Safari 18")
        self.assertContains(response, "iOS โทรศัพท์มือถือ")
        self.assertContains(response, "(เบราว์เซอร์นี้)", count=1)
        # Sessions are named on the page by an opaque ID, never by the key the cookie holds.
        for key in Session.objects.values_list("session_key", flat=True):
            self.assertNotContains(response, key)

    def test_it_ends_one_chosen_session_a4(self) -> None:
        body = self.laptop.get(SESSIONS).content.decode()
        ids = re.findall(r'name="end" value="([0-9a-f]{24})"', body)
        current = re.search(r'เบราว์เซอร์นี้.*?name="end" value="([0-9a-f]{24})"', body, re.S)
        assert current is not None
        other = next(i for i in ids if i != current.group(1))
        self.assertRedirects(self.laptop.post(SESSIONS, {"end": other}), SESSIONS)
        self.assertEqual(self.phone.get(ACCOUNT).status_code, 302)
        self.assertEqual(self.laptop.get(ACCOUNT).status_code, 200)
        self.assertTrue(AuditEntry.objects.filter(action="accounts.session_ended", actor=self.user).exists())

    def test_it_ends_all_other_sessions_a4(self) -> None:
        third = signed_in(FIREFOX_LINUX)
        self.laptop.post(SESSIONS, {"end": "others"})
        self.assertEqual(self.phone.get(ACCOUNT).status_code, 302)
        self.assertEqual(third.get(ACCOUNT).status_code, 302)
        self.assertEqual(self.laptop.get(ACCOUNT).status_code, 200)
        self.assertEqual(Session.objects.filter(user=self.user).count(), 1)

    def test_it_answers_404_for_a_session_that_is_not_yours(self) -> None:
        personas.citizen("malee")
        stranger = signed_in(FIREFOX_LINUX, "malee")
        body = self.laptop.get(SESSIONS).content.decode()
        for session_id in re.findall(r'name="end" value="([0-9a-f]{24})"', body):
            self.assertEqual(stranger.post(SESSIONS, {"end": session_id}).status_code, 404)
        self.assertEqual(Session.objects.filter(user=self.user).count(), 2)


class PasswordChangeTests(TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        self.user = personas.citizen()
        self.here = signed_in(FIREFOX_LINUX)
        self.elsewhere = signed_in(SAFARI_IPHONE)

    def change(self, current: str, new: str):
        return self.here.post("/th/accounts/password/", {"current_password": current, "password": new})

    def test_it_changes_the_password_and_ends_the_other_sessions_a3(self) -> None:
        old_key = self.here.cookies[settings.SESSION_COOKIE_NAME].value
        response = self.change(personas.PASSWORD, "a brand new passphrase")
        self.assertContains(response, "เปลี่ยนรหัสผ่านเรียบร้อยแล้ว")
        self.assertEqual(self.here.get(ACCOUNT).status_code, 200)
        self.assertNotEqual(self.here.cookies[settings.SESSION_COOKIE_NAME].value, old_key)
        self.assertEqual(self.elsewhere.get(ACCOUNT).status_code, 302)
        self.user.refresh_from_db()
        self.assertTrue(self.user.check_password("a brand new passphrase"))
        self.assertIsNotNone(self.user.password_changed_at)
        self.assertTrue(AuditEntry.objects.filter(action="accounts.password_changed", actor=self.user).exists())

    def test_it_requires_the_current_password_field_by_field(self) -> None:
        response = self.change("not it", "a brand new passphrase")
        self.assertContains(response, 'id="id_current_password_error">รหัสผ่านนี้ไม่ใช่รหัสผ่านปัจจุบันของท่าน')
        self.assertEqual(self.elsewhere.get(ACCOUNT).status_code, 200)

    def test_it_refuses_weak_and_reused_passwords_in_thai(self) -> None:
        self.assertContains(self.change(personas.PASSWORD, "short"), "รหัสผ่านนี้สั้นเกินไป")
        self.assertContains(self.change(personas.PASSWORD, "password123"), "รหัสผ่านนี้ถูกใช้บ่อยเกินไป")
        self.assertContains(self.change(personas.PASSWORD, personas.PASSWORD), "ท่านเคยใช้รหัสผ่านนี้แล้ว")
        self.change(personas.PASSWORD, "a brand new passphrase")
        again = self.here.post(
            "/th/accounts/password/", {"current_password": "a brand new passphrase", "password": personas.PASSWORD}
        )
        self.assertContains(again, "ท่านเคยใช้รหัสผ่านนี้แล้ว")

    def test_it_accepts_a_long_passphrase_and_refuses_one_past_the_limit(self) -> None:
        self.assertContains(self.change(personas.PASSWORD, "ก" * 129), "รหัสผ่านนี้ยาวเกินไป")
        self.assertContains(self.change(personas.PASSWORD, "ข" * 64), "เปลี่ยนรหัสผ่านเรียบร้อยแล้ว")

    def test_it_answers_in_english_on_the_english_site(self) -> None:
        response = self.here.post("/en/accounts/password/", {"current_password": "nope", "password": "short"})
        self.assertContains(response, "This is not your current password.")
        self.assertContains(response, "This password is too short.")
