from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class RegistryConfig(AppConfig):
    name = "raksa.registry"
    label = "registry"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Every app declares its personal fields in personal_data.py; the checks need them all.
        autodiscover_modules("personal_data")
        from raksa.registry import checks  # noqa: F401  (registers the system checks)
