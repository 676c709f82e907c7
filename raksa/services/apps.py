from django.apps import AppConfig


class ServicesConfig(AppConfig):
    name = "raksa.services"
    label = "services"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from raksa.services import policy, processing

        policy.register()
        processing.register()
