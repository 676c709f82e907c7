"""News as the gallery and the archive show it: plain values, read in two queries, no model instances.

The home page is the site's busiest page; building these cards from rows rather than models
halves its database work (see bench/content.py).
"""

from dataclasses import dataclass
from datetime import datetime

from django.core.files.storage import default_storage
from django.db.models import QuerySet
from django.urls import reverse

from raksa.content.models import NewsItem, NewsPicture, in_language


@dataclass(frozen=True)
class Thumbnail:
    url: str
    width: int
    height: int
    alt: str


@dataclass(frozen=True)
class NewsCard:
    url: str
    title: str
    summary: str
    published_at: datetime
    thumbnail: Thumbnail | None


def news_cards(news: QuerySet[NewsItem]) -> list[NewsCard]:
    """Cards for these news items (already filtered, ordered and sliced), in the current language."""
    rows = list(news.values("id", "title_th", "title_en", "summary_th", "summary_en", "published_at"))
    thumbnails: dict[int, Thumbnail] = {}
    pictures = (
        NewsPicture.objects.filter(news_id__in=[row["id"] for row in rows])
        .order_by("-position", "-id")  # the lead picture (lowest position) is written last and stays
        .values_list("news_id", "thumbnail", "thumbnail_width", "thumbnail_height", "alt_th", "alt_en")
    )
    for news_id, name, width, height, alt_th, alt_en in pictures:
        thumbnails[news_id] = Thumbnail(default_storage.url(name), width, height, in_language(alt_th, alt_en))
    return [
        NewsCard(
            url=reverse("content:news_detail", kwargs={"pk": row["id"]}),
            title=in_language(row["title_th"], row["title_en"]),
            summary=in_language(row["summary_th"], row["summary_en"]),
            published_at=row["published_at"],
            thumbnail=thumbnails.get(row["id"]),
        )
        for row in rows
    ]
