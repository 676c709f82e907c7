"""The DPO's form for a legal hold: a reason, an end date and at least one scope, each checked field by field."""

import datetime
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from raksa.organisations.models import Agency
from raksa.services.models import Service
from raksa.subjects.models import Subject


class HoldForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("The order, case or audit that requires keeping the records. Name no one."),
        error_messages={"required": _("Say why the records must be kept.")},
    )
    ends_on = forms.DateField(
        label=_("Ends on"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The hold keeps records up to and including this day; ask again if it must last longer."),
        error_messages={"required": _("Give the date the hold ends.")},
    )
    subject_id = forms.UUIDField(label=_("Person (subject ID)"), required=False)
    case_id = forms.UUIDField(
        label=_("Case (registration or request ID)"), required=False, help_text=_("The full ID of the case.")
    )
    service = forms.ModelChoiceField(label=_("Service"), queryset=Service.objects.none(), required=False)
    covers_from = forms.DateField(
        label=_("Records made from"), widget=forms.DateInput(attrs={"type": "date"}), required=False
    )
    covers_until = forms.DateField(
        label=_("Records made until"), widget=forms.DateInput(attrs={"type": "date"}), required=False
    )

    def __init__(self, *args: object, agency: Agency, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["service"].queryset = Service.objects.filter(agency=agency)  # type: ignore[attr-defined]

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Say why the records must be kept."))
        return reason

    def clean_ends_on(self) -> datetime.date:
        ends_on = self.cleaned_data["ends_on"]
        if ends_on < timezone.localdate():
            raise forms.ValidationError(_("The end date cannot be in the past."))
        return ends_on

    def clean_subject_id(self) -> object:
        subject_id = self.cleaned_data["subject_id"]
        if subject_id is not None and not Subject.objects.filter(pk=subject_id).exists():
            raise forms.ValidationError(_("No person has this ID."))
        return subject_id

    def clean(self) -> dict:
        data = super().clean() or {}
        start, end = data.get("covers_from"), data.get("covers_until")
        if (start is None) != (end is None):
            self.add_error("covers_until" if end is None else "covers_from", _("Give both ends of the time range."))
        elif start is not None and end is not None and end < start:
            self.add_error("covers_until", _("The range must end after it starts."))
        scoped = any(data.get(name) for name in ("subject_id", "case_id", "service")) or (start and end)
        if not scoped and not self.errors:
            raise forms.ValidationError(_("Say what the hold covers: a person, a case, a service or a time range."))
        return data

    def hold_arguments(self) -> dict:
        """The action's keyword arguments; the range covers whole local days."""
        data = self.cleaned_data
        zone = ZoneInfo(settings.TIME_ZONE)
        start, end = data.get("covers_from"), data.get("covers_until")
        return {
            "reason": data["reason"],
            "ends_on": data["ends_on"],
            "subject_id": data.get("subject_id"),
            "case_id": data.get("case_id"),
            "service_id": data["service"].pk if data.get("service") else None,
            "covers_from": datetime.datetime.combine(start, datetime.time.min, zone) if start else None,
            "covers_until": datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, zone)
            if end
            else None,
        }
