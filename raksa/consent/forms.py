from django import forms
from django.utils.translation import gettext_lazy as _

from raksa.consent.models import InquiryKind, PolicyVersion
from raksa.organisations.models import Agency
from raksa.registry import NEWS_AND_PR, OPINION_SURVEYS


class CookieChoiceForm(forms.Form):
    """The banner's accept/refuse buttons and the settings page's per-category boxes (never pre-ticked)."""

    choice = forms.ChoiceField(choices=[("accept", "accept"), ("refuse", "refuse"), ("save", "save")])
    preferences = forms.BooleanField(required=False, label=_("Preferences"))
    statistics = forms.BooleanField(required=False, label=_("Usage statistics"))
    next = forms.CharField(required=False)


class PolicyDraftForm(forms.ModelForm):
    class Meta:
        model = PolicyVersion
        fields = ["introduction_th", "introduction_en", "summary_th", "summary_en", "effective_date"]
        widgets = {
            "effective_date": forms.DateInput(attrs={"type": "date"}),
            "introduction_th": forms.Textarea(attrs={"rows": 10}),
            "introduction_en": forms.Textarea(attrs={"rows": 10}),
            "summary_th": forms.Textarea(attrs={"rows": 3}),
            "summary_en": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for name in ("introduction_th", "summary_th", "effective_date"):
            self.fields[name].required = True


class DiffForm(forms.Form):
    old = forms.IntegerField(min_value=1, label=_("From version"))
    new = forms.IntegerField(min_value=1, label=_("To version"))


class AgeGroup:
    ADULT = "adult"
    MINOR = "minor"


class ConsentGrantForm(forms.Form):
    """One purpose at a time: separate from any service, nothing chosen in advance."""

    age_group = forms.ChoiceField(
        label=_("Your age"),
        widget=forms.RadioSelect,
        choices=[
            (AgeGroup.ADULT, _("I am 20 or older")),
            (AgeGroup.MINOR, _("I am under 20 (a minor under Thai law)")),
        ],
    )
    guardian_consents = forms.BooleanField(
        required=False, label=_("My parent or legal guardian has read this and also consents")
    )
    email = forms.EmailField(required=False, label=_("E-mail address to send it to"), max_length=254)

    def __init__(self, *args: object, needs_email: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.needs_email = needs_email
        if not needs_email:
            del self.fields["email"]
        else:
            self.fields["email"].required = True

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("age_group") == AgeGroup.MINOR and not data.get("guardian_consents"):
            self.add_error(
                "guardian_consents",
                _("A person under 20 can consent only together with a parent or legal guardian (PDPA section 20)."),
            )
        return data


class ConsentWithdrawForm(forms.Form):
    purpose = forms.CharField(widget=forms.HiddenInput)
    agency = forms.SlugField(widget=forms.HiddenInput)
    recipient = forms.CharField(widget=forms.HiddenInput, required=False, max_length=100)


class InquiryForm(forms.Form):
    agency = forms.ModelChoiceField(
        queryset=Agency.objects.order_by("controller_id", "name_th"),
        to_field_name="slug",
        label=_("To the data protection officer of"),
        empty_label=None,
    )
    kind = forms.ChoiceField(label=_("This is a"), choices=InquiryKind.choices, widget=forms.RadioSelect)
    name = forms.CharField(label=_("Your name"), max_length=200)
    email = forms.EmailField(label=_("Your e-mail address (for the answer)"), max_length=254)
    message = forms.CharField(label=_("Your message"), max_length=5000, widget=forms.Textarea(attrs={"rows": 8}))


class InquiryAnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Answer (sent by e-mail)"), max_length=10000, widget=forms.Textarea(attrs={"rows": 8})
    )


class MailingForm(forms.Form):
    purpose = forms.ChoiceField(
        label=_("Send to the people who consented to"),
        choices=[(NEWS_AND_PR.code, NEWS_AND_PR.label), (OPINION_SURVEYS.code, OPINION_SURVEYS.label)],
        widget=forms.RadioSelect,
    )
    title_th = forms.CharField(label=_("Title in Thai"), max_length=200)
    title_en = forms.CharField(label=_("Title in English"), max_length=200, required=False)
    body_th = forms.CharField(label=_("Text in Thai"), widget=forms.Textarea(attrs={"rows": 8}))
    body_en = forms.CharField(label=_("Text in English"), widget=forms.Textarea(attrs={"rows": 8}), required=False)
