"""Services are configuration: administrators declare them here. Registrations never appear in the admin."""

from typing import Any

from django import forms
from django.contrib import admin

from raksa.services.actions import DeclarationError, check_field
from raksa.services.models import Service, ServiceField


class ServiceFieldForm(forms.ModelForm):
    class Meta:
        model = ServiceField
        fields = ["category", "purpose", "legal_basis", "required", "position"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if all(cleaned.get(name) for name in ("category", "purpose", "legal_basis")):
            try:
                check_field(
                    category=cleaned["category"], purpose=cleaned["purpose"], legal_basis=cleaned["legal_basis"]
                )
            except DeclarationError as error:
                raise forms.ValidationError(str(error)) from None
        return cleaned


class ServiceFieldInline(admin.TabularInline):
    model = ServiceField
    form = ServiceFieldForm
    extra = 1


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["title_th", "kind", "agency", "is_open", "starts_at", "capacity"]
    list_filter = ["kind", "is_open", "agency"]
    search_fields = ["title_th", "title_en", "slug"]
    filter_horizontal = ["officers"]
    inlines = [ServiceFieldInline]
