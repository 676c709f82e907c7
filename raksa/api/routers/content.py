"""The agency's published news (nothing personal)."""

from django.http import HttpRequest
from ninja import Query, Router

from raksa.api.pagination import PageQuery, page_of_queryset
from raksa.api.schemas import NewsOut, NewsPage
from raksa.content.models import NewsItem

router = Router(tags=["news"])


@router.get("/news", response=NewsPage, summary="News, newest first")
def news(request: HttpRequest, page: Query[PageQuery]) -> NewsPage:
    rows, cursor = page_of_queryset(
        NewsItem.objects.published(), scope="news", order=("-published_at", "-id"), page=page
    )
    return NewsPage(
        items=[
            NewsOut(
                id=item.pk,
                title=item.title,
                summary=item.summary,
                body=item.body,
                published_at=item.published_at,
                url=item.get_absolute_url(),
            )
            for item in rows
        ],
        next_cursor=cursor,
    )
