from django import forms
from django.utils.translation import gettext_lazy as _

from raksa.disclosures.models import RiskLevel
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
