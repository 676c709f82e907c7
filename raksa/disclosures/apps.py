from django.apps import AppConfig


class DisclosuresConfig(AppConfig):
    name = "raksa.disclosures"
    verbose_name = "Disclosures"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from raksa.disclosures import processing

        processing.register()
