from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "raksa.audit"
    label = "audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from raksa.audit import checks  # noqa: F401  (registers the system check)
