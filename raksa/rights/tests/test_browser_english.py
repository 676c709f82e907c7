"""The rights journeys in English, in Chromium: a person downloads their data, files a correction that the
DPO carries out, and closes their account; an officer links a paper request to the account holder and
erases it (R1-R3). The Thai journeys are in test_browser.py and test_browser_cases.py."""

import json
from typing import TYPE_CHECKING

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from raksa.accounts.addresses import store as store_email
from raksa.accounts.models import User
from raksa.organisations.models import Agency, StaffRole
from raksa.rights.models import RightsRequest, Status
from raksa.rights.tests.test_browser_cases import carry_out_correction
from raksa.services.tests import builders
from raksa.testing import accounts as personas
from raksa.testing.browser import chromium_page, screenshot
from raksa.testing.mailbox import Mailbox
from raksa.vault.openers import Opener

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases="__all__")]

EMAIL = "malee.english@example.org"
NATIONAL_ID = "3100600445635"


def _log_in(page: "Page", url: str, username: str, device: TOTPDevice | None = None) -> None:
    page.goto(f"{url}/en/accounts/login/")
    page.get_by_label("User ID or e-mail address").fill(username)
    page.get_by_label("Password").fill(personas.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    if device is not None:
        page.locator("input[name=code]").fill(personas.totp_code(device))
        page.get_by_role("button", name="Continue").click()


def _office() -> Agency:
    controller = personas.platform_operator()
    return Agency.objects.create(slug="most-ops", controller=controller, name_th="สำนักงานปลัด", name_en="Office")


def test_it_downloads_my_data_in_english_r1(live_server, settings) -> None:
    settings.TASKS = personas.IMMEDIATE_TASKS
    personas.platform_operator()
    store_email(personas.citizen("malee"), EMAIL)
    with chromium_page() as (page, _requests):
        _log_in(page, live_server.url, "malee")
        page.goto(f"{live_server.url}/en/me/data/")
        assert page.get_by_role("heading", level=1).inner_text() == "My data"
        page.get_by_label("Format").select_option("json")
        page.get_by_role("button", name="Prepare a download of my data").click()
        assert page.locator("#export-status").inner_text() == "ready to download"
        screenshot(page, "rights-export-ready-en")
        with page.expect_download() as download_info:
            page.locator("#export-link").click()
        data = json.loads(download_info.value.path().read_text(encoding="utf-8"))
    assert data["schema"] == "raksa.rights.export"
    assert EMAIL in json.dumps(data)


def test_it_carries_a_correction_from_the_person_to_the_dpo_in_english_r3(
    live_server, settings, mailbox: Mailbox
) -> None:
    settings.TASKS = personas.IMMEDIATE_TASKS
    dpo = builders.officer("dpo.most", _office(), StaffRole.DPO)
    device = personas.with_totp(dpo.user)
    person = personas.citizen("malee")
    store_email(person, EMAIL)
    registration = builders.registration(
        builders.certificate(builders.agency()),
        person,
        name="Malee Jaidee",
        phone="0812345678",
        address="1 Sihaburanukit Road",
        national_id=NATIONAL_ID,
    )
    with chromium_page() as (page, _requests):
        _log_in(page, live_server.url, "malee")
        page.goto(f"{live_server.url}/en/me/requests/new/?type=rectification")
        page.get_by_label("Details").fill("My name is misspelt: it is Malee Jaingam")
        page.get_by_role("button", name="Send the request").click()
        assert page.locator("#case-status").inner_text() == "received"
        screenshot(page, "rights-request-received-en")

    with chromium_page() as (page, _requests):
        _log_in(page, live_server.url, "dpo.most", device)
        page.goto(f"{live_server.url}/en/staff/rights/")
        screenshot(page, "rights-queue-en")
        target = f"services.Registration|{registration.pk}|name"
        carry_out_correction(page, dpo_id=dpo.pk, target=target, value="Malee Jaingam")
        assert page.locator("#case-status").inner_text() == "completed"
        screenshot(page, "rights-case-done-en")

    registration.refresh_from_db()
    assert Opener.for_subject(builders.subject_of(person).id).open(registration.name) == "Malee Jaingam"
    subjects = [str(message["Subject"]) for message in mailbox.received(to=EMAIL)]
    assert len(subjects) == 3
    assert all(subject.startswith("Your request (correction") for subject in subjects)


def test_it_links_a_paper_request_to_the_account_and_erases_it_in_english_r3(live_server, settings) -> None:
    settings.TASKS = personas.IMMEDIATE_TASKS
    officer = builders.officer("officer.most", _office())
    device = personas.with_totp(officer.user)
    person = personas.citizen("malee")
    store_email(person, EMAIL)
    with chromium_page() as (page, _requests):
        _log_in(page, live_server.url, "officer.most", device)
        page.goto(f"{live_server.url}/en/staff/rights/new/")
        page.get_by_label("Type of request").select_option("erasure")
        page.get_by_label("What the person asks").fill("Please erase my account (letter of 20 November)")
        page.get_by_label("Document checked in person").select_option("id_card")
        page.get_by_role("button", name="Record the request").click()
        page.get_by_label("E-mail address", exact=True).check()
        page.get_by_label("Exactly as the person gave it").fill(EMAIL.upper())
        page.get_by_role("button", name="Find").click()
        assert page.locator("#people-found li").count() == 1
        assert "has an account" in page.locator("#people-found li").inner_text()
        screenshot(page, "rights-paper-request-found-en")
        page.get_by_role("button", name="Link this request to this person").click()
        assert page.locator("#step-find").count() == 0
        page.locator("#step-status select[name=status]").select_option("completed")
        page.locator("#step-status button").click()
        assert page.locator("#case-status").inner_text() == "completed"
        screenshot(page, "rights-paper-request-erased-en")
    case = RightsRequest.objects.get()
    assert (case.status, case.subject_id) == (Status.COMPLETED, builders.subject_of(person).id)
    assert not User.objects.filter(username="malee").exists()


def test_it_closes_an_account_in_english_and_the_person_cannot_log_in_again_r3(
    live_server, settings, mailbox: Mailbox
) -> None:
    settings.TASKS = personas.IMMEDIATE_TASKS
    personas.platform_operator()
    store_email(personas.citizen("malee"), EMAIL)
    with chromium_page() as (page, _requests):
        _log_in(page, live_server.url, "malee")
        page.goto(f"{live_server.url}/en/me/account/close/")
        page.get_by_label("I understand that my account will be closed", exact=False).check()
        page.get_by_role("button", name="Close my account and erase my data").click()
        assert page.get_by_role("heading", level=1).inner_text() == "Your account is closed"
        screenshot(page, "rights-account-closed-en")
        _log_in(page, live_server.url, "malee")
        assert "/accounts/login/" in page.url
    messages = mailbox.received(to=EMAIL)
    assert len(messages) == 2
    assert "erased" in messages[-1].get_content()
