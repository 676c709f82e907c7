import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

from raksa.accounts.sessions import SEEN, STAFF, STARTED

# How often a signed-in session is re-saved: that refreshes its idle expiry and its "last seen".
TOUCH_EVERY_SECONDS = 60


def idle_seconds(*, staff: bool) -> int:
    minutes = settings.RAKSA_STAFF_SESSION_IDLE_MINUTES if staff else settings.RAKSA_SESSION_IDLE_MINUTES
    return minutes * 60


def absolute_seconds(*, staff: bool) -> int:
    hours = settings.RAKSA_STAFF_SESSION_ABSOLUTE_HOURS if staff else settings.RAKSA_SESSION_ABSOLUTE_HOURS
    return hours * 3600


class SessionPolicyMiddleware:
    """Ends a signed-in session after its absolute lifetime and keeps its idle expiry sliding.

    The idle timeout itself is the session's expiry in the database (set at log-in, shorter for
    staff): an idle session is simply not found any more.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        started = session.get(STARTED)
        if started is not None:
            now = time.time()
            staff = bool(session.get(STAFF))
            if now - started > absolute_seconds(staff=staff):
                logout(request)
            elif now - session.get(SEEN, 0) > TOUCH_EVERY_SECONDS:
                session[SEEN] = int(now)
        return self.get_response(request)


class PrivateResponseMiddleware:
    """No browser or proxy cache keeps a response to a signed-in person.

    Their user ID is on every page and their records on many: the back button of a shared computer,
    or a proxy on the way, must not hand them to the next person. Responses a view declared `public`
    (published pictures) are the same for everyone and keep their caching.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        cache_control = response.get("Cache-Control", "")
        if request.user.is_authenticated and "no-store" not in cache_control and "public" not in cache_control:
            add_never_cache_headers(response)
        return response
