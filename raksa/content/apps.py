from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContentConfig(AppConfig):
    name = "raksa.content"
    label = "content"
    verbose_name = _("Public content")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from raksa.content import home
        from raksa.core.home import HomeSection, register

        register(HomeSection("content/home_news.html", home.news, order=100))
        register(HomeSection("content/home_videos.html", home.videos, order=300))
        register(HomeSection("content/home_links.html", home.links, order=900))
