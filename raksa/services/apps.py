from django.apps import AppConfig


class ServicesConfig(AppConfig):
    name = "raksa.services"
    label = "services"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from raksa.content import sitemaps
        from raksa.core.home import HomeSection
        from raksa.core.home import register as register_home_section
        from raksa.services import policy, processing, publishing

        policy.register()
        processing.register()
        sitemaps.register("services", publishing.ServicesSitemap)
        register_home_section(HomeSection("services/home_activities.html", publishing.home_section, order=200))
