import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

from django.test import TestCase
from django.utils import timezone

from raksa.content import actions
from raksa.content.models import NewsItem, Video
from raksa.content.tests.fixtures import TemporaryMedia, camera_jpeg, public_page_types, publish_news
from raksa.core import demo

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "xhtml": "http://www.w3.org/1999/xhtml"}


class SitemapTests(TemporaryMedia, TestCase):
    databases = "__all__"
    news: NewsItem
    hidden: NewsItem
    video: Video

    @classmethod
    def setUpTestData(cls) -> None:
        demo.load_organisations()
        cls.news = publish_news(1)
        cls.hidden = publish_news(2, is_published=False)
        cls.video = actions.publish_video(
            title_th="วิดีโอ",
            embed_url="https://player.example/embed/1",
            published_at=timezone.now(),
            poster=actions.PictureUpload(camera_jpeg((640, 360)), alt_th="ภาพปก"),
        )
        actions.upsert_page(slug="open-data", title_th="ข้อมูลเปิด", body_th="ชุดข้อมูลที่เผยแพร่")

    def _listed(self) -> set[str]:
        response = self.client.get("/sitemap.xml")
        self.assertEqual(response.status_code, 200)
        root = ET.fromstring(response.content)  # noqa: S314 (the site's own answer)
        return {urlsplit(loc.text or "").path for loc in root.findall("s:url/s:loc", NS)}

    def test_it_lists_every_public_page_in_both_languages(self) -> None:
        listed = self._listed()
        pages = [*public_page_types(news_pk=self.news.pk, video_pk=self.video.pk).values(), "/pages/open-data/"]
        for language in ("th", "en"):
            for path in pages:
                self.assertIn(f"/{language}{path}", listed)

    def test_it_lists_only_pages_that_answer(self) -> None:
        listed = self._listed()
        self.assertNotIn(f"/th/news/{self.hidden.pk}/", listed)
        for path in listed:
            self.assertEqual(self.client.get(path).status_code, 200, path)

    def test_it_links_each_page_to_its_other_language(self) -> None:
        root = ET.fromstring(self.client.get("/sitemap.xml").content)  # noqa: S314 (the site's own answer)
        for url in root.findall("s:url", NS):
            alternates = {link.get("hreflang") for link in url.findall("xhtml:link", NS)}
            self.assertEqual(alternates, {"th", "en"})
