import logging
import sys

from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from raksa.accesslog import spool
from raksa.audit.actions import AccessNotRecordedError
from raksa.core import home as home_sections
from raksa.core.caching import public_page
from raksa.organisations.models import Controller

log = logging.getLogger(__name__)


@require_GET
def root(request: HttpRequest) -> HttpResponse:
    # Thai first: the bare address always opens the Thai site; English is one click away.
    return HttpResponseRedirect("/th/")


@require_GET
@public_page
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html", {"sections": home_sections.sections(request)})


@require_GET
@public_page
def contact(request: HttpRequest) -> HttpResponse:
    controllers = Controller.objects.prefetch_related("agencies").order_by("-is_platform_operator", "name_th")
    return render(request, "core/contact.html", {"controllers": controllers})


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    status = {"status": "ok", "database": "ok"}
    try:
        for alias in connections:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
    except DatabaseError as error:
        # The error's class is enough to act on; its message may name hosts or users.
        log.error("health check: database %s unreachable (%s)", alias, type(error).__name__)
        status = {"status": "error", "database": "error"}
        return JsonResponse(status, status=503)
    # Access records must never be lost in silence: a spool that cannot be written degrades the site.
    spool_problem = spool.health()
    if spool_problem is not None:
        log.error("health check: access log spool failing (%s)", spool_problem)
        return JsonResponse({**status, "status": "error", "accesslog": "error"}, status=503)
    return JsonResponse(status)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500. A lost database connection, or an access log that cannot record (so nothing audited
    may happen), is an outage, not a bug: 503, and the page says to retry.

    The page is rendered without the request's context processors (they read the database) and
    names no cause: exception messages may carry hosts, users or values.
    """
    error = sys.exc_info()[1]
    unavailable = isinstance(error, OperationalError | InterfaceError | AccessNotRecordedError)
    status = 503 if unavailable else 500
    response = HttpResponse(
        render_to_string("core/error.html", {"unavailable": unavailable, "languages": ("th", "en")}), status=status
    )
    if unavailable:
        response["Retry-After"] = "10"
    response["Cache-Control"] = "no-store"
    return response
