"""The baseline of the load benchmark: one Django view and nothing else, served like Raksa.

`gunicorn bench.bare_django:application` answers GET / with a short text from a plain function view:
Django's request handling with no middleware, no template, no database. Raksa's public pages are
compared with it in the same run, under the same server, workers and core.
"""

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, HttpResponse
from django.urls import path

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-bare-django-view",  # noqa: S106  (serves one constant text, nothing to protect)
    ALLOWED_HOSTS=["127.0.0.1"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
)


def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse("hello", content_type="text/plain")


urlpatterns = [path("", hello)]
application = get_wsgi_application()
