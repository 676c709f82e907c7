from django.apps import AppConfig, apps


class DisclosuresConfig(AppConfig):
    name = "raksa.disclosures"
    verbose_name = "Disclosures"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from raksa.disclosures import processing

        processing.register()
        if apps.is_installed("raksa.rights"):
            from raksa.disclosures import my_data

            my_data.register()
