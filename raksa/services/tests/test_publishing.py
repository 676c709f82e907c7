import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import feedparser
from django.test import TestCase

from raksa.content import search
from raksa.services import actions
from raksa.services.models import Service
from raksa.services.tests import builders

SITEMAP = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


class PublicSiteTests(TestCase):
    """Services and activities reach the site's search, sitemap, feeds and home page the moment they exist."""

    databases = "__all__"
    certificate: Service
    workshop: Service

    @classmethod
    def setUpTestData(cls) -> None:
        office = builders.agency()
        cls.certificate = builders.certificate(office)
        cls.workshop = builders.activity(office)

    def test_it_finds_an_activity_by_a_thai_word_inside_its_title(self) -> None:
        found = search.find("ปฐมพยาบาล")
        self.assertEqual([document.url_kwargs for document in found], [{"slug": "workshop"}])
        response = self.client.get("/th/search/", {"q": "ปฐมพยาบาล"})
        self.assertContains(response, 'href="/th/services/workshop/"')

    def test_it_refreshes_the_search_when_a_service_changes(self) -> None:
        actions.change_service(service=self.certificate, actor=None, title_en="Residence certificate")
        self.assertEqual(len(search.find("residence")), 1)
        self.assertEqual(search.find("certificate of residence"), [])

    def test_it_lists_services_activities_and_the_calendar_in_the_sitemap(self) -> None:
        root = ET.fromstring(self.client.get("/sitemap.xml").content)  # noqa: S314 (the site's own answer)
        listed = {urlsplit(loc.text or "").path for loc in root.findall("s:url/s:loc", SITEMAP)}
        for language in ("th", "en"):
            for path in ("/services/", "/services/calendar/", "/services/certificate/", "/services/workshop/"):
                self.assertIn(f"/{language}{path}", listed)
        for path in listed:
            self.assertEqual(self.client.get(path).status_code, 200, path)

    def test_it_publishes_upcoming_activities_as_rss_and_atom(self) -> None:
        rss = feedparser.parse(self.client.get("/th/services/calendar/rss.xml").content)
        self.assertFalse(rss.bozo, rss.get("bozo_exception"))
        self.assertEqual(rss.version, "rss20")
        self.assertEqual([entry.title for entry in rss.entries], ["อบรมการปฐมพยาบาลเบื้องต้น"])
        self.assertEqual(rss.entries[0].link, "http://testserver/th/services/workshop/")
        atom = feedparser.parse(self.client.get("/en/services/calendar/atom.xml").content)
        self.assertFalse(atom.bozo, atom.get("bozo_exception"))
        self.assertEqual(atom.version, "atom10")
        self.assertEqual([entry.title for entry in atom.entries], ["First aid workshop"])

    def test_it_announces_the_activity_feeds_on_the_calendar(self) -> None:
        response = self.client.get("/th/services/calendar/list/")
        self.assertContains(response, '<link rel="alternate" type="application/atom+xml"')
        self.assertContains(response, 'href="/th/services/calendar/rss.xml"')

    def test_it_shows_upcoming_activities_on_the_home_page(self) -> None:
        response = self.client.get("/en/")
        self.assertContains(response, 'href="/en/services/workshop/"')
        self.assertContains(response, "Upcoming activities")
