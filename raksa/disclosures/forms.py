from typing import Any

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from raksa.disclosures.actions import MAX_DOCUMENT_BYTES, OIA_SECTION_24
from raksa.disclosures.models import Recipient, RecipientKind, RiskLevel
from raksa.organisations.models import Agency
from raksa.registry import registry


def _category_choices() -> list[tuple[str, str]]:
    return [(category.code, category.label) for category in registry.categories()]


class BreachForm(forms.Form):
    discovered_at = forms.DateTimeField(
        label=_("Discovered at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    description = forms.CharField(
        label=_("What happened"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Describe the incident without naming anyone."),
        max_length=5000,
    )
    categories = forms.MultipleChoiceField(
        label=_("Affected data categories"), choices=_category_choices, widget=forms.CheckboxSelectMultiple
    )
    risk = forms.ChoiceField(label=_("Risk level"), choices=RiskLevel.choices)


class BreachActionForm(forms.Form):
    note = forms.CharField(label=_("Action taken"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    pdpc_notified = forms.BooleanField(label=_("This notified the PDPC"), required=False)


class LookupKind:
    EMAIL = "email"
    NATIONAL_ID = "national_id"
    PHONE = "phone"


class PersonLookupForm(forms.Form):
    """Finds the person by an exact value, sent in the request body: never in a URL or a log."""

    kind = forms.ChoiceField(
        label=_("Find the person by"),
        choices=[
            (LookupKind.NATIONAL_ID, _("National ID number")),
            (LookupKind.EMAIL, _("E-mail address")),
            (LookupKind.PHONE, _("Phone number")),
        ],
        widget=forms.RadioSelect,
    )
    value = forms.CharField(label=_("Exactly as the person gave it"), max_length=254)


class BasisChoice:
    CONSENT = "consent"
    REQUEST = "request"
    LEGAL = "legal"


# What an order may be uploaded as: a scan (PDF, PNG, JPEG), recognised by its first bytes.
DOCUMENT_SIGNATURES = (b"%PDF-", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")


class PurposeField(forms.ChoiceField):
    """The recipients' purposes; a refused one (marketing) passes, so the action refuses it and audits the attempt."""

    def valid_value(self, value: Any) -> bool:
        return value in REFUSED_PURPOSES or super().valid_value(value)


REFUSED_PURPOSES = frozenset(purpose.code for purpose in registry.purposes() if purpose.refused)


class DisclosureForm(forms.Form):
    """One disclosure of one person's data: the recipient, purpose, fields and the basis with its evidence."""

    subject = forms.UUIDField(widget=forms.HiddenInput)
    recipient = forms.ModelChoiceField(queryset=Recipient.objects.none(), label=_("Recipient"), to_field_name="slug")
    purpose = PurposeField(label=_("Purpose"))
    disclosed_fields = forms.MultipleChoiceField(label=_("Data to disclose"), widget=forms.CheckboxSelectMultiple)
    basis = forms.ChoiceField(
        label=_("Basis"),
        widget=forms.RadioSelect,
        choices=[
            (BasisChoice.CONSENT, _("The person's consent to this recipient for this purpose")),
            (BasisChoice.REQUEST, _("A transaction the person asked for")),
            (BasisChoice.LEGAL, _("A legal duty or an order of a competent authority")),
        ],
    )
    transaction = forms.ChoiceField(label=_("The person's registration, question or request"), required=False)
    legal_reference = forms.CharField(label=_("Order or law reference"), max_length=200, required=False)
    issuing_authority = forms.CharField(label=_("Issuing authority"), max_length=200, required=False)
    order_date = forms.DateField(
        label=_("Date of the order"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    oia_section = forms.ChoiceField(label=_("Official Information Act s24 case (if any)"), required=False)
    document = forms.FileField(
        label=_("The order (PDF, PNG or JPEG, at most 5 MB)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}),
    )
    hold_until = forms.DateField(
        label=_("Hide from the person until (a lawful hold, if any)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(
        self,
        *args: Any,
        agency: Agency,
        transactions: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        recipients = Recipient.objects.filter(agency=agency).exclude(kind=RecipientKind.PROCESSOR)
        self.fields["recipient"].queryset = recipients  # type: ignore[attr-defined]
        purposes = {code for recipient in recipients for code in recipient.purposes}
        self.fields["purpose"].choices = [  # type: ignore[attr-defined]
            (purpose.code, purpose.label) for purpose in registry.purposes() if purpose.code in purposes
        ]
        refs = sorted({ref for recipient in recipients for ref in recipient.fields})
        self.fields["disclosed_fields"].choices = [(ref, field_label(ref)) for ref in refs]  # type: ignore[attr-defined]
        self.fields["transaction"].choices = [("", "—"), *transactions]  # type: ignore[attr-defined]
        language = 1 if get_language() == "en" else 0
        self.fields["oia_section"].choices = [  # type: ignore[attr-defined]
            ("", "—"),
            *((code, f"{code} {labels[language]}") for code, labels in OIA_SECTION_24.items()),
        ]

    def clean_document(self) -> bytes:
        upload = self.cleaned_data.get("document")
        if not upload:
            return b""
        if upload.size > MAX_DOCUMENT_BYTES:
            raise forms.ValidationError(_("The document is too large (at most 5 MB)."))
        content = upload.read()
        if not content.startswith(DOCUMENT_SIGNATURES):
            raise forms.ValidationError(_("Upload the order as a PDF, PNG or JPEG file."))
        return content

    def clean(self) -> dict:
        data = super().clean() or {}
        recipient, purpose, fields = data.get("recipient"), data.get("purpose"), data.get("disclosed_fields") or []
        refused = purpose in REFUSED_PURPOSES  # left to disclose(), which refuses and audits it (D2)
        if recipient is not None and purpose and purpose not in recipient.purposes and not refused:
            self.add_error("purpose", _("This recipient is not registered for this purpose."))
        if recipient is not None and fields and not set(fields) <= set(recipient.fields):
            self.add_error("disclosed_fields", _("This recipient may not receive all of these."))
        basis = data.get("basis")
        if basis == BasisChoice.REQUEST and not data.get("transaction"):
            self.add_error("transaction", _("Choose the person's registration, question or request."))
        if basis == BasisChoice.LEGAL:
            for name in ("legal_reference", "issuing_authority", "order_date", "document"):
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, _("An order needs this."))
        return data


def field_label(ref: str) -> str:
    """A field reference ("consent.inquiry.name") as its category and the store's name."""
    label, _dot, field = ref.rpartition(".")
    declaration = registry.declaration(label, field)
    return f"{declaration.category.label} ({declaration.model_class()._meta.verbose_name})"
