"""The content app's sections of the home page (see raksa.core.home)."""

from django.http import HttpRequest

from raksa.content.models import NewsItem, RecommendedLink, Video

GALLERY_SIZE = 6
MORE_NEWS = 4
HOME_VIDEOS = 2


def news(request: HttpRequest) -> dict:
    latest = list(NewsItem.objects.published().prefetch_related("pictures")[: GALLERY_SIZE + MORE_NEWS])
    return {"gallery": latest[:GALLERY_SIZE], "more_news": latest[GALLERY_SIZE:]}


def videos(request: HttpRequest) -> dict:
    return {"videos": list(Video.objects.published()[:HOME_VIDEOS])}


def links(request: HttpRequest) -> dict:
    return {"links": list(RecommendedLink.objects.all()[:8])}
