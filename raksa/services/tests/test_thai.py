import datetime

from django.core.exceptions import ValidationError
from django.test import SimpleTestCase
from django.utils import translation

from raksa.services import thai


class NationalIdTests(SimpleTestCase):
    def test_it_accepts_real_check_digits_in_any_layout(self) -> None:
        for written in ("3100600445635", "3-1006-00445-63-5", "1101700230708", " 1 1017 00230 70 8 "):
            with self.subTest(written=written):
                self.assertRegex(thai.national_id(written), r"^\d{13}$")

    def test_it_refuses_a_wrong_check_digit_or_length(self) -> None:
        for written, code in (
            ("3100600445636", "national_id_check_digit"),
            ("1234567890123", "national_id_check_digit"),
            ("310060044563", "national_id_length"),
            ("31006004456ab", "national_id_length"),
        ):
            with self.subTest(written=written), self.assertRaises(ValidationError) as caught:
                thai.national_id(written)
            self.assertEqual(caught.exception.code, code)


class PhoneTests(SimpleTestCase):
    def test_it_accepts_thai_mobiles_and_landlines(self) -> None:
        self.assertEqual(thai.phone("0812345678"), "081 234 5678")
        self.assertEqual(thai.phone("+66 81 234 5678"), "081 234 5678")
        self.assertEqual(thai.phone("02-540-7214"), "02 540 7214")

    def test_it_refuses_numbers_that_are_not_thai(self) -> None:
        for written in ("+1 415 555 2671", "+44 20 7946 0958", "0512345", "hello"):
            with self.subTest(written=written), self.assertRaises(ValidationError):
                thai.phone(written)


class AddressTests(SimpleTestCase):
    def test_it_names_a_bangkok_address_officially(self) -> None:
        address = thai.address(
            line="333 ถนนสีหบุรานุกิจ", subdistrict="มีนบุรี", district="มีนบุรี", province="กรุงเทพมหานคร", postal_code="10510"
        )
        self.assertEqual(str(address), "333 ถนนสีหบุรานุกิจ\nแขวงมีนบุรี เขตมีนบุรี\nกรุงเทพมหานคร 10510")

    def test_it_names_a_provincial_address_officially(self) -> None:
        address = thai.address(
            line="1", subdistrict="เกาะเต่า", district="เกาะพะงัน", province="สุราษฎร์ธานี", postal_code="84360"
        )
        self.assertEqual(address.subdistrict, "ตำบลเกาะเต่า")
        self.assertEqual(address.district, "อำเภอเกาะพะงัน")
        self.assertEqual(address.province, "จังหวัดสุราษฎร์ธานี")

    def test_it_refuses_a_postal_code_of_another_district(self) -> None:
        with self.assertRaises(ValidationError) as caught:
            thai.address(line="1", subdistrict="มีนบุรี", district="มีนบุรี", province="กรุงเทพมหานคร", postal_code="10400")
        self.assertIn("postal_code", caught.exception.message_dict)
        self.assertIn("10510", caught.exception.message_dict["postal_code"][0])

    def test_it_refuses_a_subdistrict_outside_the_district(self) -> None:
        with self.assertRaises(ValidationError) as caught:
            thai.address(line="1", subdistrict="มีนบุรี", district="บางรัก", province="กรุงเทพมหานคร", postal_code="10510")
        self.assertIn("subdistrict", caught.exception.message_dict)


class DateTests(SimpleTestCase):
    def test_it_reads_buddhist_and_common_era_years(self) -> None:
        self.assertEqual(thai.parse_date("25/12/2530", buddhist_era=True), datetime.date(1987, 12, 25))
        self.assertEqual(thai.parse_date("25-12-1987", buddhist_era=False), datetime.date(1987, 12, 25))
        with self.assertRaises(ValidationError):
            thai.parse_date("31/02/2530", buddhist_era=True)
        with self.assertRaises(ValidationError):
            thai.parse_date("1987-12-25", buddhist_era=False)

    def test_it_titles_a_month_with_its_thai_name_and_the_buddhist_year(self) -> None:
        self.assertEqual(thai.month_title(2026, 1, language="th"), "มกราคม 2569")
        self.assertEqual(thai.month_title(2026, 1, language="en"), "January 2026")

    def test_it_explains_in_the_persons_language(self) -> None:
        with translation.override("th"), self.assertRaises(ValidationError) as caught:
            thai.national_id("3100600445636")
        self.assertIn("เลขประจำตัวประชาชนไม่ถูกต้อง", caught.exception.messages[0])
