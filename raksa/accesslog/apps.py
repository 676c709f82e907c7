from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessLogConfig(AppConfig):
    name = "raksa.accesslog"
    label = "accesslog"
    verbose_name = _("Access log")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from raksa.accesslog import (
            checks,  # noqa: F401  (registers the system checks)
            daykeys,
        )
        from raksa.vault.actions import register_rewrapper

        register_rewrapper("access-log day keys", daykeys.rewrap)
