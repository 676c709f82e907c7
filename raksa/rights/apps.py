from django.apps import AppConfig


class RightsConfig(AppConfig):
    name = "raksa.rights"
    label = "rights"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The ways to find a subject's rows in stores that do not point to the subject themselves.
        from raksa.rights import (
            finders,  # noqa: F401
            notices,  # noqa: F401  (the retention rule of the addresses kept for an erasure's last message)
            policy,
        )

        # Who among staff may read what a person wrote in their request (the gateway's need-to-know).
        policy.register()
