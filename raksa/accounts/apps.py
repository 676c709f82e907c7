from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    name = "raksa.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from raksa.accounts import checks  # noqa: F401  (registers the deployment checks)


class SecondFactorAdminConfig(admin_apps.AdminConfig):
    """Django's admin app with the site that asks for the second factor (raksa.accounts.adminsite)."""

    default = False  # installed by its full path in INSTALLED_APPS; "raksa.accounts" stays AccountsConfig
    default_site = "raksa.accounts.adminsite.SecondFactorAdminSite"
