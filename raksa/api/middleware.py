"""The API's last line: any error answer under /api/ that is not a problem document becomes one.

Django and django-ninja answer a few errors before any API code runs (405 from the router, 400 for
a suspicious request); the client gets the same kind of document for those as for everything else.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language

from raksa.api import problems

PREFIX = "/api/"


def problem_documents(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if not request.path.startswith(PREFIX):
            return response
        if response.status_code >= 400 and not response.get("Content-Type", "").startswith(problems.CONTENT_TYPE):
            replaced = problems.for_status(response.status_code)
            if response.has_header("Allow"):
                replaced["Allow"] = response["Allow"]
            response = replaced
        response.headers.setdefault("Content-Language", get_language() or "th")
        return response

    return middleware
