import pytest

from raksa.accounts.models import Session, User
from raksa.testing import accounts as personas
from raksa.testing.browser import chromium_page, screenshot
from raksa.testing.mailbox import Mailbox, links

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases="__all__")]

EMAIL = "wanchai@example.org"
FIRST_PASSWORD = "mango sticky rice 2026"
SECOND_PASSWORD = "a quiet canal at noon"


def test_it_walks_signup_confirm_login_change_password_logout_a1_a3_a4(live_server, mailbox: Mailbox, settings) -> None:
    settings.TASKS = personas.IMMEDIATE_TASKS
    personas.platform_operator()
    personas.platform_policy()
    with chromium_page() as (page, _requests):
        page.goto(f"{live_server.url}/th/")
        page.get_by_role("link", name="สมัครสมาชิก").first.click()
        page.get_by_label("ชื่อผู้ใช้").fill("wanchai")
        page.get_by_label("อีเมล").fill(EMAIL)
        page.get_by_label("รหัสผ่าน").fill(FIRST_PASSWORD)
        page.get_by_label("ข้าพเจ้าได้อ่านนโยบายคุ้มครองข้อมูลส่วนบุคคลและยอมรับแล้ว").check()
        screenshot(page, "accounts-signup-th")
        page.get_by_role("button", name="สมัครสมาชิก").click()
        assert page.get_by_role("heading", level=1).inner_text() == "กรุณาตรวจสอบอีเมล"

        [message] = mailbox.received(to=EMAIL)
        [link] = links(message)
        assert link.startswith(live_server.url)
        page.goto(link)
        page.get_by_role("button", name="ยืนยันอีเมลของฉัน").click()
        assert page.get_by_role("heading", level=1).inner_text() == "ยืนยันอีเมลเรียบร้อยแล้ว"
        assert User.objects.get(username="wanchai").email_confirmed

        page.get_by_role("link", name="เข้าสู่ระบบ").last.click()
        page.get_by_label("ชื่อผู้ใช้หรืออีเมล").fill(EMAIL)
        page.get_by_label("รหัสผ่าน").fill(FIRST_PASSWORD)
        page.get_by_role("button", name="เข้าสู่ระบบ").click()
        assert page.get_by_role("heading", level=1).inner_text() == "บัญชีของฉัน"
        assert page.get_by_text(EMAIL).count() == 1
        screenshot(page, "accounts-account-th")

        page.get_by_role("link", name="เปลี่ยนรหัสผ่าน").first.click()
        page.get_by_label("รหัสผ่านปัจจุบัน").fill(FIRST_PASSWORD)
        page.get_by_label("รหัสผ่านใหม่").fill(SECOND_PASSWORD)
        page.get_by_role("button", name="เปลี่ยนรหัสผ่าน").click()
        assert page.get_by_role("heading", level=1).inner_text() == "เปลี่ยนรหัสผ่านแล้ว"

        [cookie] = [c for c in page.context.cookies() if c["name"] == "sessionid"]
        assert cookie["httpOnly"]
        assert cookie["sameSite"] == "Lax"
        page.locator("header").get_by_role("button", name="ออกจากระบบ").click()
        assert page.get_by_role("heading", level=1).inner_text() == "ท่านออกจากระบบแล้ว"
        assert not Session.objects.filter(session_key=cookie["value"]).exists()
        screenshot(page, "accounts-logged-out-th")

        # The old cookie, put back, opens nothing (A4).
        page.context.add_cookies([{"name": cookie["name"], "value": cookie["value"], "url": live_server.url}])
        page.goto(f"{live_server.url}/th/accounts/")
        assert page.get_by_role("heading", level=1).inner_text() == "เข้าสู่ระบบ"
