from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language

register = template.Library()


@register.filter
def local_date(value: datetime) -> str:
    """22 พฤศจิกายน 2569 in Thai (Buddhist Era, as Thai government sites write it); 22 November 2026 in English."""
    value = timezone.localtime(value)
    year = value.year + 543 if get_language() == "th" else value.year
    return f"{value.day} {date_format(value, 'F')} {year}"
