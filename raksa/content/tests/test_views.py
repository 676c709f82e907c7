import re
from pathlib import Path

from django.core.cache import cache
from django.core.files.base import ContentFile
from django.test import TestCase, override_settings
from django.utils import timezone

from raksa.content import actions
from raksa.content.models import NewsItem, Page, Video
from raksa.content.tests.fixtures import TemporaryMedia, camera_jpeg, publish_news
from raksa.core import demo
from raksa.testing import accounts as personas


def _poster() -> actions.PictureUpload:
    return actions.PictureUpload(camera_jpeg((640, 360)), alt_th="ภาพปกวิดีโอ", alt_en="Video cover")


class HomeAndNewsTests(TemporaryMedia, TestCase):
    databases = "__all__"
    news: list[NewsItem]
    hidden: NewsItem

    @classmethod
    def setUpTestData(cls) -> None:
        demo.load_organisations()
        cls.news = [publish_news(number) for number in range(14)]
        cls.hidden = publish_news(99, is_published=False, title_th="ร่างข่าวที่ยังไม่เผยแพร่")

    def test_it_shows_a_gallery_of_the_latest_news_on_the_home_page(self) -> None:
        response = self.client.get("/th/")
        body = response.content.decode()
        self.assertEqual(body.count('<li class="card">'), 6)
        self.assertEqual(len(re.findall(r'href="/th/news/\d+/"', body)), 6 + 4)
        self.assertContains(response, "ข่าวทดสอบลำดับที่ 0")
        self.assertContains(response, 'alt="ภาพทดสอบ"', count=6)
        self.assertContains(response, 'src="/media/content/thumbnails/')
        self.assertContains(response, 'loading="lazy"', count=3)
        self.assertNotContains(response, "ร่างข่าวที่ยังไม่เผยแพร่")
        self.assertContains(self.client.get("/en/"), "Test news number 0")

    def test_it_keeps_an_archive_of_every_news_item(self) -> None:
        first = self.client.get("/th/news/")
        self.assertContains(first, "ข่าวทดสอบลำดับที่ 11")
        self.assertNotContains(first, "ข่าวทดสอบลำดับที่ 12")
        self.assertContains(first, 'href="?page=2" rel="next"')
        second = self.client.get("/th/news/", {"page": 2})
        self.assertContains(second, "ข่าวทดสอบลำดับที่ 13")

    def test_it_shows_a_news_item_with_its_pictures_in_both_languages(self) -> None:
        item = self.news[0]
        thai = self.client.get(f"/th/news/{item.pk}/")
        self.assertContains(thai, "<h1>ข่าวทดสอบลำดับที่ 0</h1>", html=True)
        self.assertContains(thai, 'src="/media/content/pictures/')
        english = self.client.get(f"/en/news/{item.pk}/")
        self.assertContains(english, "<h1>Test news number 0</h1>", html=True)
        self.assertContains(english, 'alt="A test picture"')

    def test_it_hides_unpublished_news(self) -> None:
        self.assertEqual(self.client.get(f"/th/news/{self.hidden.pk}/").status_code, 404)

    def test_it_dates_thai_pages_in_the_buddhist_era(self) -> None:
        item = self.news[0]
        year = timezone.localtime(item.published_at).year
        self.assertContains(self.client.get(f"/th/news/{item.pk}/"), f" {year + 543}</time>")
        self.assertContains(self.client.get(f"/en/news/{item.pk}/"), f" {year}</time>")

    def test_it_serves_published_pictures_for_a_year(self) -> None:
        picture = self.news[0].pictures.get()
        response = self.client.get(picture.thumbnail.url)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "image/jpeg")
        self.assertEqual(response["Cache-Control"], "public, max-age=31536000, immutable")

    def test_it_serves_nothing_outside_the_published_content(self) -> None:
        Path(self.media_dir, "private.txt").write_text("not for the public")
        self.assertEqual(self.client.get("/media/private.txt").status_code, 404)
        self.assertEqual(self.client.get("/media/content/../private.txt").status_code, 404)


class VideoTests(TemporaryMedia, TestCase):
    databases = "__all__"
    external: Video
    own: Video

    @classmethod
    def setUpTestData(cls) -> None:
        cls.external = actions.publish_video(
            title_th="วิดีโอจากเว็บไซต์อื่น",
            embed_url="https://player.example/embed/abc",
            published_at=timezone.now(),
            poster=_poster(),
        )
        cls.own = actions.publish_video(
            title_th="วิดีโอของเว็บไซต์",
            file=ContentFile(b"\x00\x00\x00\x18ftypmp42", name="clip.mp4"),
            published_at=timezone.now(),
            poster=_poster(),
        )

    def test_it_loads_no_external_player_until_the_visitor_asks(self) -> None:
        response = self.client.get(f"/th/videos/{self.external.pk}/")
        self.assertNotContains(response, "<iframe")
        self.assertNotContains(response, 'src="https://player.example')
        self.assertContains(response, f'href="/th/videos/{self.external.pk}/play/"')
        self.assertContains(response, "https://player.example")  # named, so the visitor knows who learns
        self.assertNotIn("frame-src", response["Content-Security-Policy"])

    def test_it_loads_the_external_player_after_the_click_and_allows_only_its_site(self) -> None:
        response = self.client.get(f"/th/videos/{self.external.pk}/play/")
        self.assertContains(response, '<iframe class="player" src="https://player.example/embed/abc"')
        policy = response["Content-Security-Policy"]
        self.assertIn("frame-src https://player.example", policy)
        self.assertIn("script-src 'self'", policy)
        self.assertNotIn("unsafe-inline", policy)

    def test_it_plays_its_own_videos_from_its_own_origin(self) -> None:
        response = self.client.get(f"/th/videos/{self.own.pk}/")
        self.assertContains(response, '<video class="player" controls preload="none"')
        self.assertContains(response, '<source src="/media/content/videos/clip')
        self.assertEqual(self.client.get(f"/th/videos/{self.own.pk}/play/").status_code, 404)

    def test_it_serves_its_own_videos_in_byte_ranges_for_seeking(self) -> None:
        address = self.own.file.url
        whole = self.client.get(address).getvalue()
        self.assertEqual(whole, b"\x00\x00\x00\x18ftypmp42")
        part = self.client.get(address, headers={"Range": "bytes=4-7"})
        self.assertEqual(part.status_code, 206)
        self.assertEqual(part.getvalue(), b"ftyp")
        self.assertEqual(part["Content-Range"], f"bytes 4-7/{len(whole)}")
        self.assertEqual(part["Content-Type"], "video/mp4")
        self.assertEqual(part["Accept-Ranges"], "bytes")
        tail = self.client.get(address, headers={"Range": "bytes=-4"})
        self.assertEqual(tail.getvalue(), b"mp42")
        open_ended = self.client.get(address, headers={"Range": "bytes=8-"})
        self.assertEqual(open_ended.getvalue(), b"mp42")
        beyond = self.client.get(address, headers={"Range": f"bytes={len(whole)}-"})
        self.assertEqual(beyond.status_code, 416)
        self.assertEqual(beyond["Content-Range"], f"bytes */{len(whole)}")

    def test_it_sends_the_whole_video_when_it_changed_since_the_first_part(self) -> None:
        stale = self.client.get(
            self.own.file.url, headers={"Range": "bytes=4-7", "If-Range": "Mon, 01 Jan 2024 00:00:00 GMT"}
        )
        self.assertEqual(stale.status_code, 200)

    def test_it_refuses_a_video_with_two_sources_or_none(self) -> None:
        from django.core.exceptions import ValidationError

        with self.assertRaises(ValidationError):
            actions.publish_video(title_th="ไม่มีแหล่ง", published_at=timezone.now(), poster=_poster())

    def test_it_lists_videos(self) -> None:
        response = self.client.get("/en/videos/")
        self.assertContains(response, f'href="/en/videos/{self.external.pk}/"')
        self.assertContains(response, 'alt="Video cover"')


class PageTests(TestCase):
    databases = "__all__"

    def test_it_publishes_the_standard_pages_before_anyone_writes_them(self) -> None:
        self.assertContains(self.client.get("/th/website-policy/"), "<h1>นโยบายเว็บไซต์</h1>", html=True)
        self.assertContains(self.client.get("/en/security-policy/"), "<h1>Website security policy</h1>", html=True)
        self.assertContains(self.client.get("/en/about/"), "<h1>About us</h1>", html=True)

    def test_it_shows_the_agencys_own_text_once_written(self) -> None:
        actions.upsert_page(slug=Page.WEBSITE_POLICY, title_th="นโยบายเว็บไซต์ของกรม", body_th="ย่อหน้าแรก\n\nย่อหน้าที่สอง")
        response = self.client.get("/th/website-policy/")
        self.assertContains(response, "นโยบายเว็บไซต์ของกรม")
        self.assertContains(response, "<p>ย่อหน้าแรก</p>", html=True)
        # English falls back to Thai when the English text is not written yet.
        self.assertContains(self.client.get("/en/website-policy/"), "นโยบายเว็บไซต์ของกรม")

    def test_it_gives_each_page_one_address(self) -> None:
        response = self.client.get("/th/pages/website-policy/")
        self.assertRedirects(response, "/th/website-policy/", status_code=301)
        self.assertEqual(self.client.get("/th/pages/no-such-page/").status_code, 404)

    def test_it_links_the_policies_from_every_footer(self) -> None:
        response = self.client.get("/en/contact/")
        self.assertContains(response, 'href="/en/website-policy/"')
        self.assertContains(response, 'href="/en/security-policy/"')

    def test_it_escapes_what_staff_write(self) -> None:
        actions.upsert_page(slug="about", title_th="เกี่ยวกับเรา", body_th="<script>alert(1)</script>")
        self.assertNotContains(self.client.get("/th/about/"), "<script>alert(1)")


class DirectoryAndLinksTests(TestCase):
    databases = "__all__"

    def test_it_lists_the_agencies_under_each_controller_with_links(self) -> None:
        demo.load_organisations()
        response = self.client.get("/th/agencies/")
        self.assertContains(response, '<a href="https://www.bangkok.go.th/minburi/" rel="noopener">สำนักงานเขตมีนบุรี</a>')
        self.assertContains(self.client.get("/en/agencies/"), "Minburi District Office")

    def test_it_lists_recommended_links_in_order(self) -> None:
        actions.upsert_link(url="https://b.example/", title_th="ลิงก์ที่สอง", position=2)
        actions.upsert_link(url="https://a.example/", title_th="ลิงก์แรก", title_en="First link", position=1)
        body = self.client.get("/th/links/").content.decode()
        self.assertLess(body.index("ลิงก์แรก"), body.index("ลิงก์ที่สอง"))
        self.assertContains(self.client.get("/en/links/"), "First link")


class MourningTests(TestCase):
    databases = "__all__"

    def test_it_shows_neither_ribbon_nor_grey_by_default(self) -> None:
        response = self.client.get("/th/")
        self.assertNotContains(response, "mourning-ribbon")
        self.assertNotContains(response, "grey-theme")

    def test_it_shows_the_ribbon_and_grey_on_every_page_when_switched_on(self) -> None:
        actions.set_appearance(mourning_ribbon=True, grey_theme=True)
        for address in ("/th/", "/en/contact/", "/th/website-policy/"):
            response = self.client.get(address)
            self.assertContains(response, 'class="mourning-ribbon"')
            self.assertContains(response, '<html lang="', count=1)
            self.assertContains(response, 'class="grey-theme"')
        self.assertContains(self.client.get("/th/"), 'alt="ไว้ทุกข์"')

    def test_it_lets_an_administrator_switch_them_in_the_admin(self) -> None:
        from raksa.accounts.models import User

        personas.sign_in_with_second_factor(self.client, User.objects.create_superuser("admin", "admin-password"))
        response = self.client.post("/admin/content/siteappearance/add/", {"mourning_ribbon": "on"})
        self.assertEqual(response.status_code, 302)
        self.client.logout()
        response = self.client.get("/th/")
        self.assertContains(response, 'class="mourning-ribbon"')
        self.assertNotContains(response, "grey-theme")


class PublicPageCacheTests(TemporaryMedia, TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        cache.clear()

    @override_settings(RAKSA_PUBLIC_PAGE_SECONDS=30)
    def test_it_serves_anonymous_visitors_a_recent_rendering(self) -> None:
        publish_news(1, title_th="ข่าวแรก")
        self.assertContains(self.client.get("/th/news/"), "ข่าวแรก")
        publish_news(2, title_th="ข่าวที่สอง")
        cached = self.client.get("/th/news/")
        self.assertNotContains(cached, "ข่าวที่สอง")
        self.assertEqual(cached["Vary"], "Cookie")
        self.assertIn("Content-Security-Policy", cached)
        # Anyone with a cookie gets a fresh page, never the shared copy.
        self.client.cookies["sessionid"] = "x"
        self.assertContains(self.client.get("/th/news/"), "ข่าวที่สอง")

    @override_settings(RAKSA_PUBLIC_PAGE_SECONDS=30)
    def test_it_keeps_each_language_apart(self) -> None:
        self.assertContains(self.client.get("/th/about/"), "เกี่ยวกับเรา")
        self.assertContains(self.client.get("/en/about/"), "About us")
