"""A person downloads their data in Chromium, as they would: log in, ask, wait, download once (R1)."""

import json

import pytest

from raksa.accounts.addresses import store as store_email
from raksa.audit.models import AuditEntry
from raksa.testing import accounts as personas
from raksa.testing.browser import chromium_page, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases="__all__")]

EMAIL = "malee.download@example.org"


def test_it_downloads_my_data_in_the_browser_r1(live_server, settings) -> None:
    settings.TASKS = personas.IMMEDIATE_TASKS
    personas.platform_operator()
    user = personas.citizen("malee")
    store_email(user, EMAIL)
    with chromium_page() as (page, _requests):
        page.goto(f"{live_server.url}/th/accounts/login/")
        page.get_by_label("ชื่อผู้ใช้หรืออีเมล").fill("malee")
        page.get_by_label("รหัสผ่าน").fill(personas.PASSWORD)
        page.get_by_role("button", name="เข้าสู่ระบบ").click()
        page.goto(f"{live_server.url}/th/me/data/")
        assert page.get_by_role("heading", level=1).inner_text() == "ข้อมูลของฉัน"
        page.get_by_label("รูปแบบ").select_option("json")
        page.get_by_role("button", name="จัดเตรียมไฟล์ข้อมูลของฉันเพื่อดาวน์โหลด").click()
        assert page.locator("#export-status").inner_text() == "พร้อมดาวน์โหลด"
        screenshot(page, "rights-export-ready-th")
        with page.expect_download() as download_info:
            page.locator("#export-link").click()
        path = download_info.value.path()
        data = json.loads(path.read_text(encoding="utf-8"))
        assert data["schema"] == "raksa.rights.export"
        emails = [
            row["fields"]["email"]["value"]
            for store in data["stores"]
            if store["store"] == "accounts.accountemail"
            for row in store["rows"]
        ]
        assert emails == [EMAIL]
    downloads = AuditEntry.objects.filter(action="rights.export.download", subject_id=str(user.subject_id))
    assert downloads.count() == 1
