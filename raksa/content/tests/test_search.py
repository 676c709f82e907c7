from django.test import TestCase

from raksa.content import actions, search
from raksa.content.models import NewsItem
from raksa.content.tests.fixtures import TemporaryMedia, publish_news


class SegmentationTests(TestCase):
    def test_it_cuts_thai_into_words(self) -> None:
        self.assertEqual(search.words("กระทรวงวิทยาศาสตร์และเทคโนโลยี"), ["กระทรวง", "วิทยาศาสตร์", "และ", "เทคโนโลยี"])

    def test_it_lowers_english_and_drops_punctuation(self) -> None:
        self.assertEqual(search.words("Minburi opens a TAX counter!"), ["minburi", "opens", "a", "tax", "counter"])

    def test_it_stores_each_word_once_between_spaces(self) -> None:
        self.assertEqual(search.index_text("ภาษี ภาษี", "Tax"), " ภาษี tax ")


class SiteSearchTests(TemporaryMedia, TestCase):
    databases = "__all__"
    science: NewsItem
    tax: NewsItem

    @classmethod
    def setUpTestData(cls) -> None:
        cls.science = publish_news(
            1,
            with_picture=False,
            title_th="งานสัปดาห์แห่งชาติ",
            body_th="กระทรวงวิทยาศาสตร์และเทคโนโลยีจัดนิทรรศการที่ศูนย์ประชุม",
        )
        cls.tax = publish_news(
            2,
            with_picture=False,
            title_th="บริการวันเสาร์",
            title_en="Saturday service",
            body_th="สำนักงานเขตมีนบุรีเปิดให้บริการรับชำระภาษีที่ดินและสิ่งปลูกสร้าง",
        )

    def test_it_finds_a_thai_word_inside_a_sentence(self) -> None:
        # วิทยาศาสตร์ (science) is written inside กระทรวงวิทยาศาสตร์และเทคโนโลยี, with no space around it.
        self.assertEqual([d.key for d in search.find("วิทยาศาสตร์")], [str(self.science.pk)])
        self.assertEqual([d.key for d in search.find("มีนบุรี")], [str(self.tax.pk)])

    def test_it_needs_every_word_of_the_query(self) -> None:
        self.assertEqual([d.key for d in search.find("มีนบุรี ภาษีที่ดิน")], [str(self.tax.pk)])
        self.assertEqual(search.find("มีนบุรี วิทยาศาสตร์"), [])

    def test_it_finds_part_of_a_compound_word_when_no_whole_word_matches(self) -> None:
        # The segmenter keeps ภาษีที่ดิน (land tax) whole; ภาษี (tax) alone must still find it.
        self.assertEqual([d.key for d in search.find("ภาษี")], [str(self.tax.pk)])

    def test_it_finds_english_whatever_the_case(self) -> None:
        self.assertEqual([d.key for d in search.find("SATURDAY")], [str(self.tax.pk)])

    def test_it_does_not_match_a_word_that_is_not_there(self) -> None:
        self.assertEqual(search.find("โรงพยาบาล"), [])
        self.assertEqual(search.find("  ,!  "), [])

    def test_it_shows_results_in_the_visitors_language(self) -> None:
        thai = self.client.get("/th/search/", {"q": "มีนบุรี"})
        self.assertContains(thai, f'href="/th/news/{self.tax.pk}/"')
        self.assertContains(thai, "บริการวันเสาร์")
        english = self.client.get("/en/search/", {"q": "มีนบุรี"})
        self.assertContains(english, "Saturday service")
        self.assertContains(english, "1 result")

    def test_it_forgets_what_was_unpublished(self) -> None:
        self.tax.is_published = False
        self.tax.save()
        actions.index_news(news=self.tax)
        self.assertEqual(search.find("มีนบุรี"), [])

    def test_it_searches_pages_and_what_other_apps_index(self) -> None:
        actions.upsert_page(slug="about", title_th="เกี่ยวกับเรา", body_th="หน่วยงานดูแลสวนสาธารณะในเขต")
        self.assertContains(self.client.get("/th/search/", {"q": "สวนสาธารณะ"}), 'href="/th/about/"')
        actions.index_document(
            source="service",
            key="42",
            title_th="ขออนุญาตตั้งแผงลอย",
            url_name="core:contact",
            published_at=self.tax.published_at,
            texts=["ยื่นคำขอตั้งแผงลอยบนทางเท้า"],
        )
        self.assertContains(self.client.get("/th/search/", {"q": "ทางเท้า"}), "ขออนุญาตตั้งแผงลอย")

    def test_it_skips_what_an_uninstalled_app_indexed(self) -> None:
        actions.index_document(
            source="gone",
            key="1",
            title_th="ของแอปที่ถอดออกแล้ว",
            url_name="gone:detail",
            published_at=self.tax.published_at,
        )
        response = self.client.get("/th/search/", {"q": "แอป"})
        self.assertEqual(response.status_code, 200)
        self.assertNotContains(response, "ของแอปที่ถอดออกแล้ว")
