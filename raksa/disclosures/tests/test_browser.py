"""The DPO's screens in Chromium: answering a question, then recording a disclosure under a court order."""

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from raksa.audit.models import AuditEntry
from raksa.consent import actions as consent
from raksa.consent.models import InquiryStatus
from raksa.core import demo
from raksa.disclosures.models import Disclosure, Recipient, RecipientKind
from raksa.disclosures.tests.fixtures import publish_policy
from raksa.organisations.models import StaffRole
from raksa.testing import accounts as personas
from raksa.testing.browser import chromium_page, screenshot
from raksa.testing.mailbox import Mailbox

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases="__all__")]

ANSWER = "เขตเก็บเฉพาะชื่อและอีเมลของท่านเพื่อตอบคำถามนี้"


def _log_in_dpo(page: "Page", url: str) -> None:
    minburi = demo.load_organisations()[1]
    user = personas.staff("dpo.minburi", agency=minburi, role=StaffRole.DPO)
    device = personas.with_totp(user)
    page.goto(f"{url}/th/accounts/login/")
    page.locator("input[name=identifier]").fill("dpo.minburi")
    page.locator("input[name=password]").fill(personas.PASSWORD)
    page.locator("main button[type=submit]").click()
    page.locator("input[name=code]").fill(personas.totp_code(device))
    page.locator("main button[type=submit]").click()


def test_it_lets_the_dpo_answer_a_question_and_record_a_disclosure_under_an_order_v2_d1(
    live_server, settings, mailbox: Mailbox, tmp_path: Path
) -> None:
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": mailbox.host, "port": mailbox.port, "timeout": 5},
        }
    }
    minburi = demo.load_organisations()[1]
    inquiry = consent.submit_inquiry(
        agency=minburi,
        kind="complaint",
        name="มาลี ใจดี",
        email="malee@example.org",
        message="ขอทราบว่าเขตส่งข้อมูลของดิฉันให้ใครบ้าง",
        subject=None,
        language="th",
    )
    Recipient.objects.create(
        agency=minburi,
        slug="civil-court",
        name_th="ศาลแพ่ง",
        name_en="Civil Court",
        kind=RecipientKind.COURT,
        purposes=["rights_requests"],
        fields=["consent.inquiry.name", "consent.inquiry.email"],
    )
    publish_policy(minburi)
    order = tmp_path / "order.pdf"
    order.write_bytes(b"%PDF-1.4 court order 123/2569")
    with chromium_page() as (page, requests):
        _log_in_dpo(page, live_server.url)
        page.goto(f"{live_server.url}/th/dpo/inquiries/")
        page.get_by_role("link", name=inquiry.reference).click()
        assert page.get_by_text("มาลี ใจดี").is_visible()
        page.locator("textarea[name=answer]").fill(ANSWER)
        screenshot(page, "dpo-inquiry")
        page.get_by_role("button", name="ส่งคำตอบ").click()
        assert page.get_by_text("ส่งคำตอบทางอีเมลแล้ว").is_visible()
        [mail] = mailbox.received(to="malee@example.org")
        assert ANSWER in mail.get_content()
        inquiry.refresh_from_db()
        assert inquiry.status == InquiryStatus.ANSWERED

        page.goto(f"{live_server.url}/th/dpo/disclosures/new/")
        page.locator("input[name=kind][value=email]").check()
        page.locator("input[name=value]").fill("malee@example.org")
        page.locator("main").get_by_role("button", name="ค้นหา", exact=True).click()
        assert page.get_by_text(inquiry.reference).is_visible()
        page.get_by_role("button", name="ดำเนินการต่อกับบุคคลนี้").click()
        page.locator("select[name=recipient]").select_option("civil-court")
        page.locator("select[name=purpose]").select_option("rights_requests")
        page.locator("input[name=disclosed_fields][value='consent.inquiry.name']").check()
        page.locator("input[name=basis][value=legal]").check()
        page.locator("input[name=legal_reference]").fill("คำสั่งศาลแพ่ง ที่ 123/2569")
        page.locator("input[name=issuing_authority]").fill("ศาลแพ่ง")
        page.locator("input[name=order_date]").fill("2026-11-01")
        page.locator("input[name=document]").set_input_files(str(order))
        screenshot(page, "dpo-disclose")
        page.get_by_role("button", name="บันทึกการเปิดเผย").click()
        assert page.get_by_text("บันทึกการเปิดเผยลงในรายการของเจ้าของข้อมูลแล้ว").is_visible()
        screenshot(page, "dpo-disclosure")

        # Marketing, whatever the basis: refused on the screen, nothing disclosed, the attempt audited.
        page.goto(f"{live_server.url}/th/dpo/disclosures/new/")
        page.locator("input[name=kind][value=email]").check()
        page.locator("input[name=value]").fill("malee@example.org")
        page.locator("main").get_by_role("button", name="ค้นหา", exact=True).click()
        page.get_by_role("button", name="ดำเนินการต่อกับบุคคลนี้").click()
        page.locator("select[name=recipient]").select_option("civil-court")
        page.locator("select[name=purpose]").evaluate(
            "select => { select.add(new Option('marketing', 'marketing')); select.value = 'marketing'; }"
        )
        page.locator("input[name=disclosed_fields][value='consent.inquiry.name']").check()
        page.locator("input[name=basis][value=request]").check()
        page.locator("select[name=transaction]").select_option(index=1)
        page.get_by_role("button", name="บันทึกการเปิดเผย").click()
        assert page.get_by_text("ถูกปฏิเสธ: ไม่มีการเปิดเผยข้อมูลใด").is_visible()
        screenshot(page, "dpo-disclose-refused")

    assert Disclosure.objects.count() == 1
    assert AuditEntry.objects.filter(action="disclosures.marketing_refused").count() == 1
    assert not any("malee" in url for url in requests), "no personal data in any URL"
