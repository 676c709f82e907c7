from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    name = "raksa.organisations"
    label = "organisations"
    default_auto_field = "django.db.models.BigAutoField"
