"""sitemap.xml: every public page, in Thai and in English (with hreflang alternates).

Other apps add their public pages with `register("activities", ActivitySitemap)` in their
AppConfig.ready(); the sitemap view reads SITEMAPS at each request.
"""

from django.contrib.sitemaps import Sitemap
from django.db.models import Model, QuerySet
from django.urls import NoReverseMatch, reverse

from raksa.content.models import NewsItem, Page, Video


class SiteSitemap(Sitemap):
    """Each address once per language: /th/… and /en/…."""

    i18n = True
    languages = ["th", "en"]
    alternates = True
    x_default = False


class FixedPagesSitemap(SiteSitemap):
    """Pages that always exist, by URL name; a name from an app that is not installed is left out."""

    names = [
        "core:home",
        "core:contact",
        "consent:privacy_policy",
        "content:news",
        "content:videos",
        "content:agencies",
        "content:links",
        "content:search",
        "content:website_policy",
        "content:security_policy",
        "content:about",
    ]

    def items(self) -> list[str]:
        available = []
        for name in self.names:
            try:
                reverse(name)
            except NoReverseMatch:
                continue
            available.append(name)
        return available

    def location(self, item: str) -> str:
        return reverse(item)


class NewsSitemap(SiteSitemap):
    def items(self) -> QuerySet[NewsItem]:
        return NewsItem.objects.published().only("id", "published_at")

    def lastmod(self, item: NewsItem) -> object:
        return item.published_at


class VideoSitemap(SiteSitemap):
    def items(self) -> QuerySet[Video]:
        return Video.objects.published().only("id", "published_at")


class OtherPagesSitemap(SiteSitemap):
    def items(self) -> QuerySet[Page]:
        return Page.objects.exclude(slug__in=[Page.WEBSITE_POLICY, Page.SECURITY_POLICY, Page.ABOUT])

    def location(self, item: Model) -> str:
        return item.get_absolute_url()  # type: ignore[attr-defined]


SITEMAPS: dict[str, type[Sitemap]] = {
    "pages": FixedPagesSitemap,
    "news": NewsSitemap,
    "videos": VideoSitemap,
    "more-pages": OtherPagesSitemap,
}


def register(name: str, sitemap: type[Sitemap]) -> None:
    SITEMAPS[name] = sitemap
