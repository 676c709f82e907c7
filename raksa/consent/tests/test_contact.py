import html
import re

from django.test import TestCase

from raksa.core import demo

ORIGIN = "http://testserver"


class ProtectedEmailTests(TestCase):
    databases = "__all__"

    @classmethod
    def setUpTestData(cls) -> None:
        demo.load_organisations()

    def addresses(self) -> list[str]:
        return [
            value
            for details in (demo.MINISTRY, demo.MINISTRY_OFFICE, demo.BMA, demo.MINBURI)
            for key, value in details.items()
            if key.endswith("email")
        ]

    def test_it_keeps_email_addresses_out_of_the_served_html_v3(self) -> None:
        for url in ("/th/contact/", "/en/contact/", "/th/", "/en/privacy/"):
            served = self.client.get(url).content.decode()
            readable = html.unescape(served).lower()
            for address in self.addresses():
                domain = address.split("@")[1]
                self.assertNotIn(address, readable, url)
                self.assertNotIn(domain, readable, url)
            self.assertNotIn("mailto:", readable, url)
            self.assertIsNone(re.search(r"[\w.+-]+(@|&#64;|%40|\[at\])[\w-]+\.", served), url)

    def test_it_shows_the_address_to_a_person_without_javascript_v3(self) -> None:
        page = self.client.get("/th/contact/")
        self.assertContains(page, 'name="organisation" value="agency:minburi"')
        self.assertContains(page, "แสดงอีเมล")
        response = self.client.post(
            "/th/contact/email/", {"organisation": "agency:minburi", "kind": "dpo"}, HTTP_ORIGIN=ORIGIN
        )
        self.assertContains(response, 'href="mailto:dpo.minburi@bma.example"')
        self.assertEqual(response["X-Robots-Tag"], "noindex, nofollow")
        self.assertEqual(response.cookies, {}, "showing an address sets no cookie")

    def test_it_refuses_to_show_an_address_to_a_cross_site_post_v3(self) -> None:
        response = self.client.post(
            "/th/contact/email/",
            {"organisation": "controller:most", "kind": "contact"},
            HTTP_ORIGIN="http://bot.example",
        )
        self.assertEqual(response.status_code, 403)
        missing = self.client.post(
            "/th/contact/email/", {"organisation": "agency:nowhere", "kind": "dpo"}, HTTP_ORIGIN=ORIGIN
        )
        self.assertEqual(missing.status_code, 404)

    def test_it_shows_address_phone_fax_call_centre_and_website_v2(self) -> None:
        page = self.client.get("/th/contact/")
        for value in (
            demo.MINBURI["address_th"],
            demo.MINBURI["phone"],
            demo.MINBURI["fax"],
            demo.MINISTRY["call_centre"],
            demo.MINBURI["website"],
        ):
            self.assertContains(page, value)
