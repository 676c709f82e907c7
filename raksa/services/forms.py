"""Forms generated from a service's declaration, and the officer's small forms.

`RegistrationForm` has one field per category the service declares and nothing else: whatever else
is posted, even by hand, is refused with a message naming it (C1), and nothing is saved.
"""

import uuid
from collections.abc import Mapping
from typing import Any, TypedDict

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from raksa.registry import registry
from raksa.services import thai
from raksa.services.columns import COLUMNS
from raksa.services.models import OFFICER_STATUSES, Service, ServiceField, Status
from raksa.subjects.models import Subject

ADDRESS_PARTS = ("line", "subdistrict", "district", "province", "postal_code")
# Posted with every registration form besides the declared fields.
FORM_KEYS = frozenset({"csrfmiddlewaretoken", "submission_key", "notice", "era"})
GENDERS = (
    ("female", gettext_lazy("Female")),
    ("male", gettext_lazy("Male")),
    ("unspecified", gettext_lazy("Prefer not to say")),
)


class RegisterArguments(TypedDict):
    """What `raksa.services.actions.register` takes from a valid form (web and API alike)."""

    service: Service
    subject: Subject
    values: dict[str, str]
    notice_number: int
    submission_key: uuid.UUID
    explicit_consents: list[str]
    actor: object


class Era:
    BUDDHIST = "be"
    COMMON = "ce"


def address_key(part: str) -> str:
    return f"address_{part}"


def consent_key(category: str) -> str:
    return f"consent_{category}"


class RegistrationForm(forms.Form):
    submission_key = forms.UUIDField(widget=forms.HiddenInput)
    notice = forms.IntegerField(widget=forms.HiddenInput)
    era = forms.ChoiceField(
        label=gettext_lazy("Years are written in"),
        choices=(
            (Era.BUDDHIST, gettext_lazy("the Buddhist Era (B.E.)")),
            (Era.COMMON, gettext_lazy("the Common Era (A.D.)")),
        ),
        widget=forms.RadioSelect,
        required=False,
    )

    def __init__(
        self,
        *args: Any,
        declared: list[ServiceField],
        language: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.declared = declared
        self.language = language
        self.fields["era"].initial = Era.BUDDHIST if language == "th" else Era.COMMON
        self.undeclared: list[str] = []
        for field in declared:
            self._add(field)

    # Building ------------------------------------------------------------------------------------
    def _add(self, declared: ServiceField) -> None:
        category = declared.registry_category
        label = category.label
        required = declared.required
        code = category.code
        if code == "address":
            parts = {
                "line": forms.CharField(label=_("House number, building, street"), max_length=200),
                "subdistrict": forms.CharField(label=_("Subdistrict (khwaeng / tambon)"), max_length=100),
                "district": forms.CharField(label=_("District (khet / amphoe)"), max_length=100),
                "province": forms.CharField(label=_("Province"), max_length=100),
                "postal_code": forms.CharField(
                    label=_("Postal code"), max_length=5, widget=forms.TextInput(attrs={"inputmode": "numeric"})
                ),
            }
            for part, part_field in parts.items():
                part_field.required = required
                self.fields[address_key(part)] = part_field
            return
        if code == "gender":
            field: forms.Field = forms.ChoiceField(choices=(("", "—"), *GENDERS))
        elif code == "birth_date":
            field = forms.CharField(
                max_length=10,
                help_text=_("Day/month/year, such as 25/12/2530"),
                widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": _("dd/mm/yyyy")}),
            )
        elif code == "national_id":
            field = forms.CharField(
                max_length=17,
                help_text=_("13 digits, as on your national ID card"),
                widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
            )
        elif code == "phone":
            field = forms.CharField(max_length=20, widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}))
        elif code == "email":
            field = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
        elif code == "name":
            field = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"}))
        elif code in ("message", "interests") or category.sensitive:
            field = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 4}))
        else:
            field = forms.CharField(max_length=200)
        field.label = label
        field.required = required
        self.fields[code] = field
        if category.sensitive:
            self.fields[consent_key(code)] = forms.BooleanField(
                required=required,
                label=_("I give my explicit consent for %(agency)s to use my %(category)s for this service only.")
                % {"agency": declared.service.agency.name, "category": label},
            )

    # Refusing what the service did not declare (C1) ----------------------------------------------
    def allowed_keys(self) -> set[str]:
        return set(FORM_KEYS) | set(self.fields)

    def refuse_undeclared(self, posted: Mapping[str, Any]) -> None:
        """Adds an error for every posted key the declaration does not have; the form is then invalid."""
        allowed = self.allowed_keys()
        for key in posted:
            if key in allowed:
                continue
            self.undeclared.append(key)
            base = key.removeprefix("address_") if key.startswith("address_") else key
            if base in COLUMNS or key.startswith("address_"):
                label = registry.category("address" if key.startswith("address_") else base).label
                message = _("This service does not ask for %(field)s. Nothing was saved.") % {"field": label}
            else:
                message = _("This form has no field called “%(field)s”. Nothing was saved.") % {"field": key[:40]}
            self.add_error(None, message)

    # Cleaning -------------------------------------------------------------------------------------
    def buddhist_era(self) -> bool:
        era = self.data.get("era") or self.fields["era"].initial
        return era != Era.COMMON

    def clean_national_id(self) -> str:
        value = self.cleaned_data["national_id"]
        return thai.national_id(value) if value else ""

    def clean_phone(self) -> str:
        value = self.cleaned_data["phone"]
        return thai.phone(value) if value else ""

    def clean_birth_date(self) -> str:
        value = self.cleaned_data["birth_date"]
        if not value:
            return ""
        day = thai.parse_date(value, buddhist_era=self.buddhist_era())
        if day > timezone.localdate():
            raise forms.ValidationError(_("A date of birth cannot be in the future."))
        if day.year < 1900:
            raise forms.ValidationError(
                _("That year is too early; did you mean the Buddhist Era? Check the era you chose.")
            )
        return day.isoformat()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if address_key("line") in self.fields:
            parts = {part: cleaned.get(address_key(part)) or "" for part in ADDRESS_PARTS}
            if any(parts.values()) and all(parts.values()):
                try:
                    cleaned["address"] = str(thai.address(**parts))
                except forms.ValidationError as error:
                    for part, messages in error.message_dict.items():
                        self.add_error(address_key(part), messages)
            elif any(parts.values()):
                for part, value in parts.items():
                    if not value and address_key(part) not in self.errors:
                        self.add_error(address_key(part), _("Fill in every part of the address, or none."))
        for declared in self.declared:
            code = declared.category
            if declared.registry_category.sensitive and cleaned.get(code) and not cleaned.get(consent_key(code)):
                self.add_error(consent_key(code), _("This information needs your explicit consent."))
        return cleaned

    def values(self) -> dict[str, str]:
        """The declared categories the person filled in, as text for the vault."""
        values = {}
        for declared in self.declared:
            value = self.cleaned_data.get(declared.category)
            if value:
                values[declared.category] = str(value)
        return values

    def explicit_consents(self) -> list[str]:
        return [
            declared.category
            for declared in self.declared
            if declared.registry_category.sensitive and self.cleaned_data.get(consent_key(declared.category))
        ]

    def register_arguments(self, *, service: Service, subject: Subject, actor: object) -> RegisterArguments:
        """The arguments of `actions.register` for this valid form."""
        return RegisterArguments(
            service=service,
            subject=subject,
            values=self.values(),
            notice_number=self.cleaned_data["notice"],
            submission_key=self.cleaned_data["submission_key"],
            explicit_consents=self.explicit_consents(),
            actor=actor,
        )

    def sections(self) -> list[list[forms.BoundField]]:
        """The bound fields grouped as the template lays them out (the address's parts together)."""
        groups: list[list[forms.BoundField]] = []
        for declared in self.declared:
            code = declared.category
            if code == "address":
                groups.append([self[address_key(part)] for part in ADDRESS_PARTS])
            elif consent_key(code) in self.fields:
                groups.append([self[code], self[consent_key(code)]])
            else:
                groups.append([self[code]])
        return groups


class StatusForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("New status"), choices=[(status.value, status.label) for status in OFFICER_STATUSES]
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason (shown to the person; required when rejecting)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("status") == Status.REJECTED and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", _("Give the reason for the rejection; the person will see it."))
        return cleaned


class NoteForm(forms.Form):
    text = forms.CharField(label=gettext_lazy("Note"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
