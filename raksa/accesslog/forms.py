import datetime

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from raksa.accesslog.actions import SEARCH_PURPOSES

MAX_RANGE_DAYS = 366
_CASE_REFERENCE = r"^[A-Za-z0-9_-]{1,64}$"


class RangeForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    end = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise ValidationError(_("The end comes before the start."))
            if (end - start).days >= MAX_RANGE_DAYS:
                raise ValidationError(_("Choose at most a year."))
        return data


class _TimeRange(forms.Form):
    starts_at = forms.DateTimeField(
        label=_("From"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )
    ends_at = forms.DateTimeField(
        label=_("Until"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )
    case_reference = forms.RegexField(
        label=_("Case reference"),
        regex=_CASE_REFERENCE,
        help_text=_("Letters, digits, - and _ only, e.g. INC-2026-041."),
    )

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            raise ValidationError(_("The end comes before the start."))
        return data


class SearchForm(_TimeRange):
    purpose = forms.ChoiceField(
        label=_("Purpose of this search"),
        choices=list(SEARCH_PURPOSES.items()),
    )
    ip = forms.GenericIPAddressField(label=_("IP address"), required=False, unpack_ipv4=True)
    path = forms.CharField(label=_("Page address starts with"), required=False, max_length=2000)
    account = forms.CharField(label=_("Account (user ID)"), required=False, max_length=150)

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
        days = max_search_days()
        if starts_at and ends_at and ends_at - starts_at > datetime.timedelta(days=days):
            raise ValidationError(
                _("Search at most %(days)s days at a time: as far back as raw records are kept."),
                params={"days": days},
            )
        return data


def max_search_days() -> int:
    """Every day raw records are kept, today included (91 with the default 90): the law keeps them so
    that an investigation can look at all of them, and one search, audited once with its purpose and
    case, shows no more than three would."""
    return settings.RAKSA_ACCESSLOG_RAW_DAYS + 1


class HoldForm(_TimeRange):
    pass
