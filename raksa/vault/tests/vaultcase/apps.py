from django.apps import AppConfig


class VaultCaseConfig(AppConfig):
    """A test-only app (raksa/testing/settings.py installs it): its model never reaches production."""

    name = "raksa.vault.tests.vaultcase"
    label = "vaultcase"
    default_auto_field = "django.db.models.BigAutoField"
