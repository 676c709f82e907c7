import feedparser
from django.test import TestCase

from raksa.content.tests.fixtures import TemporaryMedia, publish_news


class NewsFeedTests(TemporaryMedia, TestCase):
    databases = "__all__"

    @classmethod
    def setUpTestData(cls) -> None:
        for number in range(3):
            publish_news(number)
        publish_news(9, is_published=False, title_th="ข่าวที่ยังไม่เผยแพร่")

    def test_it_publishes_valid_rss_2_in_thai(self) -> None:
        response = self.client.get("/th/news/rss.xml")
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response["Content-Type"].startswith("application/rss+xml"))
        feed = feedparser.parse(response.content)
        self.assertFalse(feed.bozo, feed.get("bozo_exception"))
        self.assertEqual(feed.version, "rss20")
        self.assertEqual(feed.feed.language, "th")
        self.assertEqual(feed.feed.link, "http://testserver/th/news/")
        self.assertEqual([entry.title for entry in feed.entries], [f"ข่าวทดสอบลำดับที่ {n}" for n in range(3)])
        self.assertTrue(feed.entries[0].link.startswith("http://testserver/th/news/"))
        self.assertIsNotNone(feed.entries[0].published_parsed)

    def test_it_publishes_valid_atom_in_english(self) -> None:
        response = self.client.get("/en/news/atom.xml")
        self.assertTrue(response["Content-Type"].startswith("application/atom+xml"))
        feed = feedparser.parse(response.content)
        self.assertFalse(feed.bozo, feed.get("bozo_exception"))
        self.assertEqual(feed.version, "atom10")
        self.assertEqual(feed.entries[0].title, "Test news number 0")
        self.assertEqual(feed.entries[0].summary, "A summary for the test")
        self.assertTrue(feed.entries[0].link.startswith("http://testserver/en/news/"))

    def test_it_leaves_unpublished_news_out(self) -> None:
        for address in ("/th/news/rss.xml", "/th/news/atom.xml"):
            self.assertNotContains(self.client.get(address), "ข่าวที่ยังไม่เผยแพร่")

    def test_it_announces_its_feeds_on_the_news_pages(self) -> None:
        response = self.client.get("/th/news/")
        self.assertContains(response, '<link rel="alternate" type="application/rss+xml"')
        self.assertContains(response, 'href="/th/news/atom.xml"')
