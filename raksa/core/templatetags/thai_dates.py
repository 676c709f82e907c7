"""Dates as Thai people read them: Thai month names and the Buddhist Era (BE = CE + 543) in Thai."""

from datetime import date, datetime

from django import template
from django.utils import formats, timezone
from django.utils.translation import get_language

register = template.Library()

BUDDHIST_ERA_OFFSET = 543
THAI_MONTHS_SHORT = ("ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.")
THAI_MONTHS = (
    "มกราคม",
    "กุมภาพันธ์",
    "มีนาคม",
    "เมษายน",
    "พฤษภาคม",
    "มิถุนายน",
    "กรกฎาคม",
    "สิงหาคม",
    "กันยายน",
    "ตุลาคม",
    "พฤศจิกายน",
    "ธันวาคม",
)


def thai_date(value: date, *, long: bool = False) -> str:
    months = THAI_MONTHS if long else THAI_MONTHS_SHORT
    return f"{value.day} {months[value.month - 1]} {value.year + BUDDHIST_ERA_OFFSET}"


@register.filter
def local_date(value: date | datetime | None, style: str = "short") -> str:
    """`{{ when|local_date }}`: 22 พ.ย. 2569 in Thai, 22 Nov 2026 in English (`:"long"` for full month names)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if get_language() == "th":
        return thai_date(value, long=style == "long")
    return formats.date_format(value, "j F Y" if style == "long" else "j M Y")


@register.filter
def local_datetime(value: datetime | None) -> str:
    """`{{ when|local_datetime }}`: the local date as above and the 24-hour time."""
    if value is None:
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{local_date(local)} {local:%H:%M}"
