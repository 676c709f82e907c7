from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class RetentionConfig(AppConfig):
    name = "raksa.retention"
    label = "retention"
    verbose_name = _("Retention")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Each app states its stores' rules in its retention.py, as personal_data.py for the registry.
        autodiscover_modules("retention")
        from raksa.retention import audit_segments, checks  # noqa: F401  (the audit log's rule; the system checks)
