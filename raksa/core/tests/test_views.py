import subprocess
import sys
from unittest import mock

from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.cache import cache
from django.db import OperationalError, connection
from django.shortcuts import render
from django.test import Client, RequestFactory, TestCase, override_settings
from django.test.utils import CaptureQueriesContext

from raksa.core import demo


class ShellTests(TestCase):
    databases = "__all__"

    @classmethod
    def setUpTestData(cls) -> None:
        demo.load_organisations()

    def test_it_opens_in_thai(self) -> None:
        response = self.client.get("/", follow=True)
        self.assertEqual(response.redirect_chain[-1][0], "/th/")
        self.assertContains(response, '<html lang="th">')
        self.assertContains(response, "กระทรวงวิทยาศาสตร์และเทคโนโลยี")
        self.assertContains(response, "ข้ามไปยังเนื้อหาหลัก")  # the skip link, in Thai

    def test_it_switches_to_english_on_the_same_page(self) -> None:
        response = self.client.get("/th/contact/")
        self.assertContains(response, 'href="/en/contact/" hreflang="en"')
        english = self.client.get("/en/contact/")
        self.assertContains(english, '<html lang="en">')
        self.assertContains(english, "Minburi District Office")
        self.assertContains(english, 'href="/th/contact/" hreflang="th"')

    def test_it_sets_no_cookie_when_switching_language(self) -> None:
        response = self.client.get("/en/")
        self.assertEqual(response.cookies, {})
        self.assertEqual(self.client.cookies, {})

    @override_settings(RAKSA_PUBLIC_PAGE_SECONDS=30)
    def test_it_reads_the_operator_for_the_footer_once_per_public_page_lifetime(self) -> None:
        cache.clear()
        # A visitor with a cookie gets each page freshly rendered; the footer's operator is shared.
        self.client.cookies["__Host-sessionid"] = "none"
        with CaptureQueriesContext(connection) as first:
            self.client.get("/th/about/")
        with CaptureQueriesContext(connection) as second:
            self.assertContains(self.client.get("/th/about/"), "กระทรวงวิทยาศาสตร์และเทคโนโลยี")
        read = [query for query in first.captured_queries if "is_platform_operator" in query["sql"]]
        self.assertEqual(len(read), 1)
        self.assertFalse([query for query in second.captured_queries if "is_platform_operator" in query["sql"]])

    def test_it_shows_the_operator_contacts_in_the_footer(self) -> None:
        response = self.client.get("/th/")
        self.assertContains(response, "0 2333 3700")
        self.assertContains(response, "1313")
        self.assertContains(response, 'href="#top"')

    def test_it_has_landmarks_and_a_skip_link(self) -> None:
        body = self.client.get("/en/").content.decode()
        for landmark in ("<header", '<nav class="site-nav" aria-label="Main"', '<main id="main"', "<footer"):
            self.assertIn(landmark, body)
        self.assertIn('<a class="skip-link" href="#main">Skip to main content</a>', body)

    def test_it_lists_every_agency_on_the_contact_page(self) -> None:
        response = self.client.get("/th/contact/")
        self.assertContains(response, "สำนักงานเขตมีนบุรี")
        self.assertContains(response, "0 2540 7267")
        self.assertContains(response, "สำนักงานปลัดกระทรวงวิทยาศาสตร์และเทคโนโลยี")

    def test_it_sends_a_strict_content_security_policy(self) -> None:
        policy = self.client.get("/th/")["Content-Security-Policy"]
        self.assertIn("default-src 'self'", policy)
        self.assertIn("object-src 'none'", policy)
        self.assertIn("frame-ancestors 'none'", policy)
        self.assertNotIn("unsafe-inline", policy)


class ServerStartTests(TestCase):
    """What a server worker does when it loads raksa.wsgi, before its first request: each test runs in a
    fresh process, as each worker is."""

    def loading_the_application(self, script: str) -> list[str]:
        """What `script` prints, run with `{load}` replaced by loading raksa.wsgi."""
        found = subprocess.run(
            [sys.executable, "-c", "import sys, django; django.setup(); " + script.format(load="import raksa.wsgi")],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        return found.stdout.split()

    def test_it_imports_every_view_before_the_server_takes_a_request(self) -> None:
        # Building the URL resolver imports every view, so no visitor's request pays for it.
        found = self.loading_the_application(
            "views = lambda: {{m for m in sys.modules if m.startswith('raksa.') and m.endswith('.views')}}; "
            "before = views(); {load}; print(sorted(before), 'raksa.services.views' in views())"
        )
        self.assertEqual(found, ["[]", "True"])

    def test_it_loads_the_thai_address_data_before_the_server_takes_a_request(self) -> None:
        # geothai loads its tables at its first look-up (≈45 ms), so the worker makes one at start.
        found = self.loading_the_application(
            "import geothai; looked_up = []; match = geothai.match; "
            "geothai.match = lambda *a, **k: looked_up.append(1) or match(*a, **k); {load}; print(len(looked_up))"
        )
        self.assertEqual(found, ["1"])


class HealthTests(TestCase):
    databases = "__all__"

    def test_it_reports_ok(self) -> None:
        response = self.client.get("/healthz")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), {"status": "ok", "database": "ok"})
        self.assertIn("no-cache", response["Cache-Control"])

    def test_it_answers_503_without_a_traceback_when_the_database_is_down(self) -> None:
        with (
            mock.patch(
                "django.db.backends.base.base.BaseDatabaseWrapper.cursor",
                side_effect=OperationalError("could not connect to server at 10.0.0.1 as user secret"),
            ),
            self.assertLogs("raksa.core.views", level="ERROR") as logs,
        ):
            response = self.client.get("/healthz")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.json(), {"status": "error", "database": "error"})
        self.assertNotIn(b"Traceback", response.content)
        self.assertNotIn("secret", " ".join(logs.output))


class ErrorPageTests(TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        self.client = Client(raise_request_exception=False)

    def test_it_answers_503_with_a_clean_page_while_the_database_is_unreachable_s1(self) -> None:
        lost = OperationalError("server closed the connection unexpectedly: host 10.0.0.1 user secret")
        with mock.patch("raksa.core.home.sections", side_effect=lost):
            response = self.client.get("/en/")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response["Retry-After"], "10")
        self.assertContains(response, "บริการขัดข้องชั่วคราว", status_code=503)
        self.assertContains(response, "Service temporarily unavailable", status_code=503)
        self.assertNotContains(response, "secret", status_code=503)
        self.assertNotContains(response, "Traceback", status_code=503)

    def test_it_answers_500_with_a_clean_page_for_any_other_error(self) -> None:
        with mock.patch("raksa.core.home.sections", side_effect=ValueError("secret")):
            response = self.client.get("/en/")
        self.assertEqual(response.status_code, 500)
        self.assertContains(response, "เกิดข้อผิดพลาด", status_code=500)
        self.assertContains(response, "Something went wrong", status_code=500)
        self.assertNotContains(response, "secret", status_code=500)


class MessagesTests(TestCase):
    databases = "__all__"

    def test_it_shows_flash_messages(self) -> None:
        request = RequestFactory().get("/th/")
        request.user = AnonymousUser()
        request.session = self.client.session
        request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
        messages.success(request, "บันทึกเรียบร้อยแล้ว")
        first = render(request, "core/home.html").content.decode()
        self.assertIn('<li class="message success">บันทึกเรียบร้อยแล้ว</li>', first)
