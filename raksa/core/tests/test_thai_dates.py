from datetime import UTC, date, datetime

from django.test import SimpleTestCase
from django.utils import translation

from raksa.core.templatetags.thai_dates import local_date, local_datetime


class ThaiDateTests(SimpleTestCase):
    def test_it_shows_the_buddhist_era_and_thai_months_in_thai(self) -> None:
        with translation.override("th"):
            self.assertEqual(local_date(date(2026, 11, 22)), "22 พ.ย. 2569")
            self.assertEqual(local_date(date(2026, 1, 1), "long"), "1 มกราคม 2569")

    def test_it_shows_the_common_era_in_english(self) -> None:
        with translation.override("en"):
            self.assertEqual(local_date(date(2026, 11, 22)), "22 Nov 2026")

    def test_it_converts_to_bangkok_time_first(self) -> None:
        # 20:30 UTC on 31 December is already 1 January in Bangkok (UTC+7), and a new BE year.
        with translation.override("th"):
            self.assertEqual(local_datetime(datetime(2026, 12, 31, 20, 30, tzinfo=UTC)), "1 ม.ค. 2570 03:30")
