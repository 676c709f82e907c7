"""The content app's sections of the home page (see raksa.core.home)."""

from django.http import HttpRequest

from raksa.content.cards import news_cards
from raksa.content.models import NewsItem, RecommendedLink, Video

GALLERY_SIZE = 6
MORE_NEWS = 4
HOME_VIDEOS = 2
# The video cards read only what they show: no descriptions, no full-size posters.
CARD_FIELDS = ("id", "title_th", "title_en", "published_at")
THUMBNAIL_FIELDS = ("thumbnail", "thumbnail_width", "thumbnail_height", "alt_th", "alt_en")


def news(request: HttpRequest) -> dict:
    latest = news_cards(NewsItem.objects.published()[: GALLERY_SIZE + MORE_NEWS])
    return {"gallery": latest[:GALLERY_SIZE], "more_news": latest[GALLERY_SIZE:]}


def videos(request: HttpRequest) -> dict:
    return {"videos": list(Video.objects.published().only(*CARD_FIELDS, *THUMBNAIL_FIELDS)[:HOME_VIDEOS])}


def links(request: HttpRequest) -> dict:
    return {"links": list(RecommendedLink.objects.all()[:8])}
