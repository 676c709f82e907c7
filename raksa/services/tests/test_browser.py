import pytest
from django.conf import settings as django_settings
from django.test import Client

from raksa.services.models import Registration, Status
from raksa.services.tests import builders
from raksa.testing.browser import chromium_page, screenshot
from raksa.testing.mailbox import Mailbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases="__all__")]


@pytest.fixture
def smtp(settings, mailbox: Mailbox) -> Mailbox:
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": mailbox.host, "port": mailbox.port, "timeout": 5},
        }
    }
    return mailbox


def test_it_registers_for_an_activity_in_thai_c1_c3(live_server, smtp: Mailbox) -> None:
    workshop = builders.activity(builders.agency(), capacity=5)
    person = builders.citizen("malee")
    client = Client()
    client.force_login(person)
    session_cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    with chromium_page() as (page, _requests):
        page.context.add_cookies(
            [{"name": django_settings.SESSION_COOKIE_NAME, "value": session_cookie, "url": live_server.url}]
        )
        # From the home page's upcoming activities, as most visitors arrive.
        page.goto(f"{live_server.url}/th/")
        upcoming = page.get_by_role("region", name="กิจกรรมที่กำลังจะมาถึง")
        screenshot(page, "services-home-activities-th")
        upcoming.get_by_role("link", name=workshop.title_th).click()
        assert page.get_by_role("heading", level=1).inner_text() == "อบรมการปฐมพยาบาลเบื้องต้น"
        # The notice is on the page before the form, generated from the two declared categories.
        notice = page.locator("section.notice")
        assert "ข้อมูลที่เราเก็บรวบรวมและเหตุผล" in notice.inner_text()
        assert "ชื่อ-นามสกุล" in notice.inner_text()
        assert "อีเมล" in notice.inner_text()
        names = page.locator("form.registration-form input[name]").evaluate_all("inputs => inputs.map(i => i.name)")
        assert [name for name in names if name not in ("csrfmiddlewaretoken", "submission_key", "notice")] == [
            "name",
            "email",
        ]
        page.get_by_label("ชื่อ-นามสกุล").fill("มาลี ใจดี")
        page.get_by_label("อีเมล").fill("malee@example.org")
        screenshot(page, "services-activity-form-th")
        page.get_by_role("button", name="ส่ง").click()
        page.wait_for_url(f"{live_server.url}/th/services/mine/**")
        assert "ได้รับการลงทะเบียนของท่านแล้ว" in page.locator(".messages").inner_text()
        assert "มาลี ใจดี" in page.locator("main").inner_text()
        screenshot(page, "services-activity-registered-th")
    registration = Registration.objects.get()
    assert registration.status == Status.RECEIVED
    [message] = smtp.received("malee@example.org")
    assert [part.get_filename() for part in message.iter_attachments()] == ["activity.ics"]
