import secrets
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from raksa.consent.cookies import (
    CHOICE_MAX_AGE,
    VISITOR_COOKIE,
    CookieCategory,
    choice_from,
    registered_cookie,
    registered_cookies,
)


class CookieGateMiddleware:
    """Lets through only the cookies the visitor allowed (K1); the one place that enforces it.

    Placed outermost among the middleware that set cookies, it sees every Set-Cookie last: a cookie
    that is not in the registry, or whose category the visitor has not allowed, is dropped from the
    response; an optional cookie the browser still holds after a refusal is deleted.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.cookie_choice = choice_from(request)  # type: ignore[attr-defined]
        response = self.get_response(request)
        # A view that records a new choice hands it over, so this response already follows it.
        choice = getattr(response, "cookie_choice", None) or request.cookie_choice  # type: ignore[attr-defined]
        for name in list(response.cookies):
            morsel = response.cookies[name]
            deleting = morsel["max-age"] == 0
            cookie = registered_cookie(name)
            if not deleting and (cookie is None or not choice.allows(cookie.category)):
                del response.cookies[name]
        for cookie in registered_cookies():
            if cookie.name in request.COOKIES and not choice.allows(cookie.category):
                response.delete_cookie(cookie.name, samesite="Lax")
        if choice.allows(CookieCategory.STATISTICS) and VISITOR_COOKIE not in request.COOKIES:
            response.set_cookie(
                VISITOR_COOKIE,
                secrets.token_urlsafe(16),
                max_age=CHOICE_MAX_AGE,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response
