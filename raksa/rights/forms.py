"""The rights app's forms: the person's own (export, request, closing the account, corrections) and staff's."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from raksa.consent.models import Consent
from raksa.disclosures.forms import PersonLookupForm
from raksa.organisations.models import StaffMembership
from raksa.registry import registry
from raksa.rights.actions import EXTENSION_REASONS, MAX_EXTENSION_DAYS, REFUSAL_REASONS, limitable_purposes
from raksa.rights.models import ExportFormat, IdentityMethod, RequestType, Status


class ExportForm(forms.Form):
    format = forms.ChoiceField(label=_("Format"), choices=ExportFormat.choices)


class RequestForm(forms.Form):
    type = forms.ChoiceField(label=_("What do you ask for?"), choices=RequestType.choices)
    details = forms.CharField(label=_("Details"), widget=forms.Textarea, required=False, max_length=4000)
    consent = forms.ChoiceField(label=_("Consent to withdraw"), required=False)

    def __init__(self, *args: Any, consents: list[Consent], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.consents = {str(consent.pk): consent for consent in consents}
        field = self.fields["consent"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "—")] + [
            (pk, f"{consent.agency.name} — {consent.purpose}") for pk, consent in self.consents.items()
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("type") == RequestType.CONSENT_WITHDRAWAL and not cleaned.get("consent"):
            self.add_error("consent", _("Choose the consent you withdraw."))
        return cleaned

    @property
    def chosen_consent(self) -> Consent:
        return self.consents[self.cleaned_data["consent"]]


class CloseAccountForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I understand that my account will be closed and my data erased, and that this cannot be undone.")
    )


class SelfCorrectionForm(forms.Form):
    """One text box per value the person may correct themselves, filled with what is held now."""

    def __init__(self, *args: Any, values: list[tuple[str, str, str, str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.targets: dict[str, tuple[str, str, str]] = {}
        for number, (store, row_id, field, label, current) in enumerate(values):
            name = f"value_{number}"
            self.targets[name] = (store, row_id, field)
            self.fields[name] = forms.CharField(label=label, initial=current, required=False, max_length=500)

    def changes(self) -> list[tuple[str, str, str, str]]:
        """(store, row ID, field, new value) of every value the person changed."""
        return [(*self.targets[name], self.cleaned_data[name]) for name in self.changed_data if name in self.targets]


# --- Staff -----------------------------------------------------------------------------------------


class AssignForm(forms.Form):
    officer = forms.ModelChoiceField(label=_("Assign to"), queryset=StaffMembership.objects.none())

    def __init__(self, *args: Any, handlers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["officer"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = handlers
        field.label_from_instance = lambda membership: (  # type: ignore[method-assign,assignment]
            f"{membership.user.username} ({membership.get_role_display()}, {membership.agency.name})"
        )


OFFICER_METHODS = [(code, label) for code, label in IdentityMethod.choices if code != IdentityMethod.REAUTHENTICATION]


class IdentityForm(forms.Form):
    method = forms.ChoiceField(label=_("Document checked in person"), choices=OFFICER_METHODS)


class StatusForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Outcome"),
        choices=[(s.value, s.label) for s in (Status.IN_PROGRESS, Status.COMPLETED, Status.REFUSED)],
    )
    refusal_reason = forms.ChoiceField(
        label=_("Legal reason of the refusal"),
        choices=[("", "—"), *REFUSAL_REASONS.items()],
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("status") == Status.REFUSED and not cleaned.get("refusal_reason"):
            self.add_error("refusal_reason", _("A refusal needs its legal reason."))
        return cleaned


class ExtendForm(forms.Form):
    days = forms.IntegerField(label=_("Extra days"), min_value=1, max_value=MAX_EXTENSION_DAYS)
    reason = forms.ChoiceField(label=_("Reason"), choices=list(EXTENSION_REASONS.items()))


class RectifyForm(forms.Form):
    target = forms.ChoiceField(label=_("Value to correct"))
    value = forms.CharField(label=_("Corrected value"), max_length=500)

    def __init__(self, *args: Any, targets: list[tuple[str, str, str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.targets = {f"{store}|{row_id}|{field}": (store, row_id, field) for store, row_id, field, _l in targets}
        choice = self.fields["target"]
        assert isinstance(choice, forms.ChoiceField)
        choice.choices = [(f"{store}|{row_id}|{field}", label) for store, row_id, field, label in targets]

    @property
    def chosen(self) -> tuple[str, str, str]:
        return self.targets[self.cleaned_data["target"]]


class WalkInForm(forms.Form):
    """A request made at the counter or on paper by a person without an account."""

    type = forms.ChoiceField(label=_("Type of request"), choices=RequestType.choices)
    details = forms.CharField(label=_("What the person asks"), widget=forms.Textarea, max_length=4000)
    method = forms.ChoiceField(label=_("Document checked in person"), choices=OFFICER_METHODS)
    contact_email = forms.EmailField(label=_("E-mail address for replies"), required=False)

    def clean_type(self) -> str:
        kind = self.cleaned_data["type"]
        if kind == RequestType.CONSENT_WITHDRAWAL:
            # Consents belong to accounts: a person without one withdraws through the office's own records.
            raise ValidationError(_("A person without an account has no consent recorded here to withdraw."))
        return kind


class LinkForm(PersonLookupForm):
    """Finds the person a paper request is from by the value on their document, sent in the body (never in a
    URL); with `subject`, links the case to that person, found again by the same value."""

    subject = forms.UUIDField(required=False, widget=forms.HiddenInput)


class LimitForm(forms.Form):
    """Granting a restriction (every purpose it may cover unless some are chosen) or upholding an objection
    (the purposes objected to)."""

    purposes = forms.MultipleChoiceField(
        label=_("Purposes to stop"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, objection: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.objection = objection
        field = self.fields["purposes"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(code, registry.purpose(code).label) for code in limitable_purposes()]
        if not objection:
            field.help_text = _("None chosen: every purpose a restriction may stop.")

    def clean_purposes(self) -> list[str]:
        chosen = self.cleaned_data["purposes"]
        if self.objection and not chosen:
            raise ValidationError(_("Choose the purposes the objection is upheld for."))
        return list(chosen)
