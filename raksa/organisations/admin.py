from django.contrib import admin

from raksa.organisations.models import Agency, Controller


@admin.register(Controller)
class ControllerAdmin(admin.ModelAdmin):
    list_display = ["name_th", "name_en", "slug", "is_platform_operator"]
    prepopulated_fields = {"slug": ["name_en"]}


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["name_th", "name_en", "slug", "controller"]
    list_filter = ["controller"]
    prepopulated_fields = {"slug": ["name_en"]}
