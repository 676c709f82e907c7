from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from raksa.vault.keys import session


def vault_session_middleware(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """Data keys unwrapped while handling a request are kept for that request only."""

    def middleware(request: HttpRequest) -> HttpResponse:
        with session():
            return get_response(request)

    return middleware
