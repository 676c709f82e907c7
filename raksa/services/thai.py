"""Thai input checked with the libraries that know the rules, and dates in the Buddhist Era.

- national ID: 13 digits with their check digit (python-stdnum `th.pin`);
- phone: a number valid in Thailand (phonenumbers, region TH);
- address: subdistrict, district and province that exist together, and a postal code of that
  subdistrict (geothai);
- dates: day/month/year typed in the Buddhist Era (BE = CE + 543) or the Common Era (shown with
  raksa.core's `local_date` filter).

Each check raises ValidationError with a message for the field, in the person's language.
"""

import datetime
import re
from dataclasses import dataclass

import geothai
import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum.th import pin

from raksa.core.templatetags.thai_dates import BUDDHIST_ERA_OFFSET, THAI_MONTHS

WEEKDAYS_TH_SHORT = ("จ.", "อ.", "พ.", "พฤ.", "ศ.", "ส.", "อา.")


def national_id(value: str) -> str:
    """The 13 digits of a valid Thai national ID."""
    digits = pin.compact(value)
    if not re.fullmatch(r"\d{13}", digits):
        raise ValidationError(_("A national ID number has 13 digits."), code="national_id_length")
    if not pin.is_valid(digits):
        raise ValidationError(
            _("This national ID number is not valid: its last digit does not match. Check it on your card."),
            code="national_id_check_digit",
        )
    return digits


def phone(value: str) -> str:
    """A Thai phone number, written the Thai way (081 234 5678, 02 123 4567)."""
    try:
        number = phonenumbers.parse(value, "TH")
    except phonenumbers.NumberParseException:
        raise ValidationError(_("Enter a phone number, such as 081 234 5678."), code="phone_format") from None
    if not phonenumbers.is_valid_number_for_region(number, "TH"):
        raise ValidationError(
            _("This is not a Thai phone number. Enter a Thai mobile or landline number, such as 081 234 5678."),
            code="phone_not_thai",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


@dataclass(frozen=True)
class Address:
    line: str
    subdistrict: str
    district: str
    province: str
    postal_code: str

    def __str__(self) -> str:
        return "\n".join(
            part for part in (self.line, f"{self.subdistrict} {self.district}", f"{self.province} {self.postal_code}")
        )


def address(*, line: str, subdistrict: str, district: str, province: str, postal_code: str) -> Address:
    """The address with its official names, or ValidationError naming the part that does not fit.

    The error's message dict is keyed by the part ("subdistrict", "postal_code"), for the form.
    """
    if not re.fullmatch(r"\d{5}", postal_code.strip()):
        raise ValidationError({"postal_code": _("A postal code has 5 digits.")}, code="postal_code_format")
    places = geothai.match(subdistrict, district=district, province=province)
    if not places:
        raise ValidationError(
            {"subdistrict": _("This subdistrict is not in that district and province. Check the three names.")},
            code="address_unknown",
        )
    fitting = [place for place in places if postal_code.strip() in place.subdistrict.postal_codes]
    if not fitting:
        expected = ", ".join(sorted({code for place in places for code in place.subdistrict.postal_codes}))
        raise ValidationError(
            {
                "postal_code": _(
                    "This postal code does not match the subdistrict and district; it should be %(codes)s."
                )
                % {"codes": expected}
            },
            code="postal_code_mismatch",
        )
    place = fitting[0]
    bangkok = place.province.code == "10"
    return Address(
        line=line.strip(),
        subdistrict=("แขวง" if bangkok else "ตำบล") + place.subdistrict.name_th,
        district=place.district.name_th
        if place.district.name_th.startswith("เขต")
        else "อำเภอ" + place.district.name_th,
        province=place.province.name_th if bangkok else "จังหวัด" + place.province.name_th,
        postal_code=postal_code.strip(),
    )


def load_data() -> None:
    """Loads what the address and phone checks read (geothai's tables ≈45 ms, the Thai phone metadata
    ≈5 ms on a quiet machine), which a process otherwise loads at its first check: each server worker
    calls this before it takes a request (raksa/wsgi.py), so no citizen's registration pays it.
    The libraries are asked directly: a look-up that finds nothing loads the same data and raises
    nothing, so a change in their data can never stop a worker from starting."""
    geothai.match("สีลม", district="บางรัก", province="กรุงเทพมหานคร")
    phonenumbers.is_valid_number_for_region(phonenumbers.parse("02 123 4567", "TH"), "TH")


def parse_date(value: str, *, buddhist_era: bool) -> datetime.date:
    """A date written day/month/year (with /, - or .), the year in the Buddhist or the Common Era."""
    match = re.fullmatch(r"\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*", value)
    if match is None:
        raise ValidationError(_("Write the date as day/month/year, such as 25/12/2530."), code="date_format")
    day, month, year = (int(part) for part in match.groups())
    if buddhist_era:
        year -= BUDDHIST_ERA_OFFSET
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise ValidationError(_("There is no such date."), code="date_invalid") from None


def month_title(year: int, month: int, *, language: str) -> str:
    """The calendar's heading: พฤศจิกายน 2569 in Thai, November 2026 in English."""
    if language == "th":
        return f"{THAI_MONTHS[month - 1]} {year + BUDDHIST_ERA_OFFSET}"
    return datetime.date(year, month, 1).strftime("%B %Y")
