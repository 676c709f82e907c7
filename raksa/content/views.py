import mimetypes
import posixpath
from pathlib import Path
from typing import cast
from urllib.parse import urlsplit

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views import static
from django.views.decorators.http import require_GET

from raksa.content import defaults, ranges, search
from raksa.content.cards import news_cards
from raksa.content.models import NewsItem, Page, RecommendedLink, Video
from raksa.core.caching import public_page
from raksa.organisations.models import Controller

NEWS_PER_PAGE = 12
VIDEOS_PER_PAGE = 12


@require_GET
@public_page
def news_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(NewsItem.objects.published(), NEWS_PER_PAGE).get_page(request.GET.get("page"))
    cards = news_cards(cast(QuerySet[NewsItem], page.object_list))
    return render(request, "content/news_list.html", {"page": page, "cards": cards})


@require_GET
@public_page
def news_detail(request: HttpRequest, pk: int) -> HttpResponse:
    news = get_object_or_404(NewsItem.objects.published().prefetch_related("pictures"), pk=pk)
    return render(request, "content/news_detail.html", {"news": news})


@require_GET
@public_page
def video_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(Video.objects.published(), VIDEOS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "content/video_list.html", {"page": page})


@require_GET
@public_page
def video_detail(request: HttpRequest, pk: int) -> HttpResponse:
    video = get_object_or_404(Video.objects.published(), pk=pk)
    return render(request, "content/video_detail.html", {"video": video, "player_origin": _origin(video.embed_url)})


@require_GET
def video_play(request: HttpRequest, pk: int) -> HttpResponse:
    """The external player, reached only by the visitor's own click: only then may its site learn of the visit."""
    video = get_object_or_404(Video.objects.published().exclude(embed_url=""), pk=pk)
    origin = _origin(video.embed_url)
    response = render(request, "content/video_detail.html", {"video": video, "player_origin": origin, "play": True})
    # The strict policy stays; only this response may frame that one player's site.
    response._csp_config = {**settings.SECURE_CSP, "frame-src": [origin]}  # type: ignore[attr-defined]
    return response


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme == "https" and parts.netloc else ""


@require_GET
@public_page
def page(request: HttpRequest, slug: str) -> HttpResponse:
    found = Page.objects.filter(slug=slug).first() or defaults.standard_page(slug)
    if found is None:
        raise Http404
    if found.get_absolute_url() != request.path:
        return redirect(found, permanent=True)  # one address per page
    return render(request, "content/page.html", {"page": found})


@require_GET
@public_page
def agencies(request: HttpRequest) -> HttpResponse:
    controllers = Controller.objects.prefetch_related("agencies").order_by("-is_platform_operator", "name_th")
    return render(request, "content/agencies.html", {"controllers": controllers})


@require_GET
@public_page
def links(request: HttpRequest) -> HttpResponse:
    return render(request, "content/links.html", {"links": RecommendedLink.objects.all()})


@require_GET
def search_results(request: HttpRequest) -> HttpResponse:
    # The query stays out of every log: the access log keeps no query strings (DESIGN decision 9).
    # NUL never belongs in a query, and PostgreSQL refuses it in text (a 500 before this).
    query = request.GET.get("q", "").replace("\x00", "").strip()[:200]
    results = []
    for document in search.find(query) if query else []:
        try:
            url = reverse(document.url_name, kwargs=document.url_kwargs)
        except NoReverseMatch:
            continue  # indexed by an app that is no longer installed
        results.append({"document": document, "url": url})
    return render(request, "content/search.html", {"query": query, "results": results})


@require_GET
def media(request: HttpRequest, name: str) -> HttpResponseBase:
    """Published pictures and videos (a reverse proxy may serve MEDIA_ROOT itself in production)."""
    name = posixpath.normpath(name)
    if not name.startswith("content/"):
        raise Http404
    if name.startswith("content/videos/"):
        response = _video(request, name)
    else:
        response = static.serve(request, name, document_root=str(settings.MEDIA_ROOT))
    named_by_content = name.startswith(("content/pictures/", "content/thumbnails/"))
    response["Cache-Control"] = "public, max-age=31536000, immutable" if named_by_content else "public, max-age=3600"
    return response


def _video(request: HttpRequest, name: str) -> HttpResponseBase:
    """A self-hosted video, in the byte ranges players ask for (seeking; Safari plays nothing without)."""
    root = Path(settings.MEDIA_ROOT).resolve()
    path = (root / name).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise Http404
    return ranges.serve(request, path, mimetypes.guess_type(path.name)[0] or "application/octet-stream")
