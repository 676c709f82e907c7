import datetime
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from raksa.accesslog.tests.helpers import IPHONE, SpoolDirectory, record, spool_and_ingest, staff
from raksa.testing import accounts as personas
from raksa.testing.browser import chromium_page, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases="__all__")]


def test_it_draws_the_dashboard_in_thai_from_its_own_origin_only_p1(live_server) -> None:
    with SpoolDirectory() as directory:
        now = timezone.now()
        lines = []
        for day in range(30):
            for visit in range((day * 7) % 23 + 3):
                lines.append(
                    record(
                        when=now - datetime.timedelta(days=day, minutes=visit * 37),
                        ip=f"203.0.113.{visit}",
                        agent=IPHONE
                        if visit % 3
                        else "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
                        path=["/th/", "/th/news/", "/th/contact/", "/en/"][visit % 4],
                        referrer="https://www.google.com/" if visit % 2 else "",
                    )
                )
        spool_and_ingest(directory.path, lines)
        client = Client()
        personas.sign_in_with_second_factor(client, staff("dpo.browser", "dpo"))
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        origin = urlsplit(live_server.url)
        with chromium_page() as (page, requests):
            page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}])
            errors: list[str] = []
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.goto(f"{live_server.url}/th/staff/statistics/")
            assert page.get_by_role("heading", level=1).inner_text() == "สถิติการใช้งาน"
            assert page.locator("polyline.views").count() == 1
            screenshot(page, "accesslog-dashboard-th")
            page.get_by_role("link", name="English").click()
            assert page.get_by_role("heading", level=1).inner_text() == "Usage statistics"
            screenshot(page, "accesslog-dashboard-en")
        assert errors == [], f"console errors (a CSP violation?): {errors}"
        foreign = [url for url in requests if urlsplit(url).netloc != origin.netloc]
        assert foreign == [], f"requests to other origins: {foreign}"
