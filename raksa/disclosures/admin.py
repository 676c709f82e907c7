"""Recipients are configuration (the register of who may receive what); disclosures and breaches are not here."""

from django.contrib import admin

from raksa.disclosures.models import Recipient


@admin.register(Recipient)
class RecipientAdmin(admin.ModelAdmin):
    list_display = ("name_th", "kind", "agency", "contract_reference", "contract_expires")
    list_filter = ("kind", "agency")
    filter_horizontal = ("accounts",)
