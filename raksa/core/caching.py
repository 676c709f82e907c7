"""Public pages served from memory to anonymous visitors: the same bytes for everyone who sends no cookie.

Pages carry no per-response nonce (no inline scripts or styles), so a rendering can be reused as is.
Anyone with a cookie (a session, a consent choice) gets a fresh rendering: a copy never holds
anything about one person. Published changes, and the counts such pages show (an activity's seats
left), show within RAKSA_PUBLIC_PAGE_SECONDS.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language

View = Callable[..., HttpResponse]


def public_page(view: View) -> View:
    @wraps(view)
    def serve(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        seconds = settings.RAKSA_PUBLIC_PAGE_SECONDS
        if not seconds or request.method != "GET" or request.COOKIES:
            return view(request, *args, **kwargs)
        key = f"public-page:{get_language()}:{request.get_full_path()}"
        stored = cache.get(key)
        if stored is not None:
            content, content_type = stored
            response = HttpResponse(content, content_type=content_type)
        else:
            response = view(request, *args, **kwargs)
            if response.status_code == 200 and not response.cookies and not response.streaming:
                cache.set(key, (response.content, response["Content-Type"]), seconds)
        # A visitor with a session must never be given the anonymous copy by a cache on the way.
        patch_vary_headers(response, ["Cookie"])
        return response

    return serve


def published(key: str, make: Callable[[], Any]) -> Any:
    """A value the same for every visitor (published settings and content, never anything about one
    person), kept in memory as long as public pages are, so that it changes on every page at once."""
    seconds = settings.RAKSA_PUBLIC_PAGE_SECONDS
    return cache.get_or_set(key, make, seconds) if seconds else make()


def forget(key: str) -> None:
    """A `published` value known to have changed: the next reader makes it again from the database."""
    cache.delete(key)
