from django.apps import AppConfig, apps


class ConsentConfig(AppConfig):
    name = "raksa.consent"
    label = "consent"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the consent app's own purpose (pre-filling forms) with the registry.
        from raksa.consent import policy, purposes  # noqa: F401

        policy.register()

        if apps.is_installed("raksa.services"):
            from raksa.consent import prefill

            prefill.register()
