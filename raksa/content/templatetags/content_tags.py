from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.translation import get_language

register = template.Library()

# Written out rather than looked up through the translation catalogue on each date: a page shows dozens.
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
ENGLISH_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@register.filter
def local_date(value: datetime) -> str:
    """22 พฤศจิกายน 2569 in Thai (Buddhist Era, as Thai government sites write it); 22 November 2026 in English."""
    value = timezone.localtime(value)
    if get_language() == "th":
        return f"{value.day} {THAI_MONTHS[value.month - 1]} {value.year + 543}"
    return f"{value.day} {ENGLISH_MONTHS[value.month - 1]} {value.year}"
