"""Writes to the published content. Staff write through the admin, which calls these for what follows a save."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from django.core.files import File
from django.db import transaction

from raksa.content import pictures, search
from raksa.content.models import (
    NewsItem,
    NewsPicture,
    Page,
    PictureFields,
    RecommendedLink,
    SearchDocument,
    SiteAppearance,
    Video,
)


@dataclass(frozen=True)
class PictureUpload:
    file: IO[bytes]
    alt_th: str
    alt_en: str = ""


def attach_picture(target: PictureFields, upload: IO[bytes]) -> None:
    """Sets the published renditions (resized, metadata stripped) of an upload on a picture not yet saved."""
    prepared = pictures.prepare(upload)
    target.image = prepared.large
    target.thumbnail = prepared.thumbnail


@transaction.atomic
def publish_news(
    *,
    title_th: str,
    summary_th: str,
    body_th: str,
    published_at: datetime,
    title_en: str = "",
    summary_en: str = "",
    body_en: str = "",
    uploads: Sequence[PictureUpload] = (),
    is_published: bool = True,
) -> NewsItem:
    news = NewsItem.objects.create(
        title_th=title_th,
        title_en=title_en,
        summary_th=summary_th,
        summary_en=summary_en,
        body_th=body_th,
        body_en=body_en,
        published_at=published_at,
        is_published=is_published,
    )
    for position, upload in enumerate(uploads):
        picture = NewsPicture(news=news, position=position, alt_th=upload.alt_th, alt_en=upload.alt_en)
        attach_picture(picture, upload.file)
        picture.save()
    index_news(news=news)
    return news


@transaction.atomic
def publish_video(
    *,
    title_th: str,
    poster: PictureUpload,
    published_at: datetime,
    title_en: str = "",
    description_th: str = "",
    description_en: str = "",
    embed_url: str = "",
    file: File | None = None,
) -> Video:
    """A video from this site (`file`) or an external player that loads on the visitor's click (`embed_url`)."""
    video = Video(
        title_th=title_th,
        title_en=title_en,
        description_th=description_th,
        description_en=description_en,
        embed_url=embed_url,
        published_at=published_at,
        alt_th=poster.alt_th,
        alt_en=poster.alt_en,
    )
    if file is not None:
        video.file = file
    attach_picture(video, poster.file)
    video.full_clean()
    video.save()
    return video


@transaction.atomic
def upsert_link(*, url: str, title_th: str, title_en: str = "", position: int = 0) -> RecommendedLink:
    link, _created = RecommendedLink.objects.update_or_create(
        url=url, defaults={"title_th": title_th, "title_en": title_en, "position": position}
    )
    return link


@transaction.atomic
def upsert_page(*, slug: str, title_th: str, body_th: str, title_en: str = "", body_en: str = "") -> Page:
    page, _created = Page.objects.update_or_create(
        slug=slug, defaults={"title_th": title_th, "title_en": title_en, "body_th": body_th, "body_en": body_en}
    )
    index_page(page=page)
    return page


def index_news(*, news: NewsItem) -> None:
    if not news.is_published:
        remove_from_index(source="news", key=str(news.pk))
        return
    index_document(
        source="news",
        key=str(news.pk),
        title_th=news.title_th,
        title_en=news.title_en,
        summary_th=news.summary_th,
        summary_en=news.summary_en,
        texts=[news.body_th, news.body_en],
        url_name="content:news_detail",
        url_kwargs={"pk": news.pk},
        published_at=news.published_at,
    )


def index_page(*, page: Page) -> None:
    index_document(
        source="page",
        key=page.slug,
        title_th=page.title_th,
        title_en=page.title_en,
        summary_th=page.body_th[:300],
        summary_en=page.body_en[:300],
        texts=[page.body_th, page.body_en],
        url_name=page.route[0],
        url_kwargs=page.route[1],
        published_at=page.updated_at,
    )


def index_document(
    *,
    source: str,
    key: str,
    title_th: str,
    url_name: str,
    published_at: datetime,
    title_en: str = "",
    summary_th: str = "",
    summary_en: str = "",
    texts: Iterable[str] = (),
    url_kwargs: dict | None = None,
) -> SearchDocument:
    """Adds or refreshes one thing in the site search. Other apps index their services and activities here."""
    document, _created = SearchDocument.objects.update_or_create(
        source=source,
        key=key,
        defaults={
            "title_th": title_th,
            "title_en": title_en,
            "summary_th": summary_th,
            "summary_en": summary_en,
            "url_name": url_name,
            "url_kwargs": url_kwargs or {},
            "words": search.index_text(title_th, title_en, summary_th, summary_en, *texts),
            "published_at": published_at,
        },
    )
    return document


def remove_from_index(*, source: str, key: str) -> None:
    SearchDocument.objects.filter(source=source, key=key).delete()


@transaction.atomic
def set_appearance(*, mourning_ribbon: bool, grey_theme: bool) -> SiteAppearance:
    appearance, _created = SiteAppearance.objects.update_or_create(
        id=1, defaults={"mourning_ribbon": mourning_ribbon, "grey_theme": grey_theme}
    )
    return appearance
