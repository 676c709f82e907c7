"""A request's life in Chromium: the person files it (after giving the password again), the DPO assigns
it, the officer verifies identity and applies the correction, and the person sees the case closed and
gets a mail at each step (R1-R3)."""

import time
from typing import TYPE_CHECKING

import pytest
from django.conf import settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from raksa.accounts.addresses import store as store_email
from raksa.accounts.sessions import STARTED, SessionStore
from raksa.organisations.models import Agency, StaffRole
from raksa.rights.models import RightsRequest, Status
from raksa.services.tests import builders
from raksa.testing import accounts as personas
from raksa.testing.browser import chromium_page, screenshot
from raksa.testing.mailbox import Mailbox
from raksa.vault.openers import Opener

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases="__all__")]

EMAIL = "malee.case@example.org"


def _log_in(page: "Page", url: str, username: str, device: TOTPDevice | None = None) -> None:
    page.goto(f"{url}/th/accounts/login/")
    page.get_by_label("ชื่อผู้ใช้หรืออีเมล").fill(username)
    page.get_by_label("รหัสผ่าน").fill(personas.PASSWORD)
    page.get_by_role("button", name="เข้าสู่ระบบ").click()
    if device is not None:
        page.locator("input[name=code]").fill(personas.totp_code(device))
        page.get_by_role("button", name="ดำเนินการต่อ").click()


def _age_the_log_in(page: "Page") -> None:
    """As if the person logged in an hour ago: the next irreversible step asks for the password again."""
    key = next(c["value"] for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    session = SessionStore(session_key=key)
    session[STARTED] = int(time.time()) - 3600
    session.save()


def carry_out_correction(page: "Page", *, dpo_id: int, target: str, value: str) -> None:
    """From the DPO's queue (any language): open the one case, assign it, verify identity, correct, complete."""
    page.locator("#queue tbody a").click()
    page.locator("#step-assign select").select_option(str(dpo_id))
    page.locator("#step-assign button").click()
    page.locator("#step-identity select").select_option("id_card")
    page.locator("#step-identity button").click()
    page.locator("#step-rectify select").select_option(target)
    page.locator("#step-rectify input[name=value]").fill(value)
    page.locator("#step-rectify button").click()
    page.locator("#step-status select[name=status]").select_option("completed")
    page.locator("#step-status button").click()


def test_it_carries_a_rectification_from_the_person_to_the_officer_and_back_r3(
    live_server, settings, mailbox: Mailbox
) -> None:
    settings.TASKS = personas.IMMEDIATE_TASKS
    controller = personas.platform_operator()
    office = Agency.objects.create(slug="most-ops", controller=controller, name_th="สำนักงานปลัด", name_en="Office")
    dpo = builders.officer("dpo.most", office, StaffRole.DPO)
    device = personas.with_totp(dpo.user)
    person = personas.citizen("malee")
    store_email(person, EMAIL)
    registration = builders.registration(
        builders.certificate(builders.agency()),
        person,
        name="มาลี ใจดี",
        phone="0812345678",
        address="1 ถนนสีหบุรานุกิจ",
        national_id="3100600445635",
    )

    with chromium_page() as (page, _requests):
        _log_in(page, live_server.url, "malee")
        _age_the_log_in(page)
        page.goto(f"{live_server.url}/th/me/requests/new/?type=rectification")
        assert page.get_by_role("heading", level=1).inner_text() == "ยืนยันว่าเป็นท่าน"
        page.get_by_label("รหัสผ่าน").fill(personas.PASSWORD)
        page.get_by_role("button", name="ยืนยัน").click()
        page.get_by_label("รายละเอียด").fill("ชื่อของฉันสะกดผิด ที่ถูกคือ มาลี ใจงาม")
        page.get_by_role("button", name="ส่งคำขอ").click()
        assert page.locator("#case-status").inner_text() == "รับคำขอแล้ว"
        screenshot(page, "rights-request-received-th")

    case = RightsRequest.objects.get()
    with chromium_page() as (page, _requests):
        _log_in(page, live_server.url, "dpo.most", device)
        page.goto(f"{live_server.url}/th/staff/rights/")
        assert page.locator("#queue tbody tr").count() == 1
        screenshot(page, "rights-queue-th")
        carry_out_correction(
            page, dpo_id=dpo.pk, target=f"services.Registration|{registration.pk}|name", value="มาลี ใจงาม"
        )
        assert page.locator("#case-status").inner_text() == "ดำเนินการเสร็จแล้ว"
        screenshot(page, "rights-case-done-th")

    registration.refresh_from_db()
    assert Opener.for_subject(builders.subject_of(person).id).open(registration.name) == "มาลี ใจงาม"
    case.refresh_from_db()
    assert case.status == Status.COMPLETED
    subjects = [str(message["Subject"]) for message in mailbox.received(to=EMAIL)]
    assert len(subjects) == 3  # received, in progress, completed


def test_it_closes_an_account_in_the_browser_and_the_person_cannot_log_in_again_r3(
    live_server, settings, mailbox: Mailbox
) -> None:
    settings.TASKS = personas.IMMEDIATE_TASKS
    personas.platform_operator()
    person = personas.citizen("malee")
    store_email(person, EMAIL)
    with chromium_page() as (page, _requests):
        _log_in(page, live_server.url, "malee")
        page.goto(f"{live_server.url}/th/me/account/close/")
        page.get_by_role("button", name="ปิดบัญชีและลบข้อมูลของฉัน").click()
        assert page.locator(".errorlist").count() == 1  # the confirmation box was not ticked
        page.get_by_label("ฉันเข้าใจว่าบัญชีของฉันจะถูกปิด", exact=False).check()
        page.get_by_role("button", name="ปิดบัญชีและลบข้อมูลของฉัน").click()
        assert page.get_by_role("heading", level=1).inner_text() == "บัญชีของท่านปิดแล้ว"
        screenshot(page, "rights-account-closed-th")
        _log_in(page, live_server.url, "malee")
        assert "/accounts/login/" in page.url  # refused: the account is gone
    assert RightsRequest.objects.get().status == Status.COMPLETED
    assert len(mailbox.received(to=EMAIL)) == 2  # received, then the last message once erased
