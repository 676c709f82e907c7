"""Services are configuration: administrators declare them here. Registrations never appear in the admin."""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext as _

from raksa.organisations.models import StaffRole
from raksa.services.actions import DeclarationError, change_service, check_field, create_service, seats_taken
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


class ServiceForm(forms.ModelForm):
    class Meta:
        model = Service
        fields = [
            "agency",
            "slug",
            "kind",
            "title_th",
            "title_en",
            "description_th",
            "description_en",
            "is_open",
            "retention_days",
            "officers",
            "starts_at",
            "ends_at",
            "place_th",
            "place_en",
            "capacity",
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        agency = cleaned.get("agency")
        strangers = [
            staff for staff in cleaned.get("officers", []) if staff.agency != agency or staff.role != StaffRole.OFFICER
        ]
        if strangers:
            self.add_error("officers", _("Only officers of the service's own agency can be assigned to it."))
        capacity = cleaned.get("capacity")
        if self.instance.pk and capacity is not None:
            taken = seats_taken(self.instance)
            if capacity < taken:
                self.add_error(
                    "capacity",
                    _("%(taken)d seats are already taken: the capacity cannot be lower.") % {"taken": taken},
                )
        return cleaned


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    form = ServiceForm
    list_display = ["title_th", "kind", "agency", "is_open", "starts_at", "capacity"]
    list_filter = ["kind", "is_open", "agency"]
    search_fields = ["title_th", "title_en", "slug"]
    filter_horizontal = ["officers"]
    inlines = [ServiceFieldInline]

    def save_model(self, request: HttpRequest, obj: Service, form: forms.ModelForm, change: bool) -> None:
        # Through the actions, so a change is audited, indexed for search and promotes the waiting list.
        columns = [field.name for field in Service._meta.concrete_fields if field.name not in ("id", "created_at")]
        if not change:
            details = {name: getattr(obj, name) for name in columns if name not in ("agency", "slug")}
            created = create_service(agency=obj.agency, slug=obj.slug, actor=request.user, **details)
            obj.pk, obj.created_at = created.pk, created.created_at
            return
        changed = [name for name in form.changed_data if name in columns]
        change_service(service=obj, actor=request.user, **{name: getattr(obj, name) for name in changed})
