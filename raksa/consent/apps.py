from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "raksa.consent"
    label = "consent"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the consent app's own purpose (pre-filling forms) with the registry.
        from raksa.consent import purposes  # noqa: F401
