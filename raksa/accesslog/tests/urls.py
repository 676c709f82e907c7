"""The site's URLs plus a reset-like and a download-like route that carry tokens, for the redaction tests."""

from django.conf.urls.i18n import i18n_patterns
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path

from raksa.urls import urlpatterns as site_urlpatterns


def reset_like(request: HttpRequest, token: str) -> HttpResponse:
    # Like Django's reset view: the token moves out of the address at once.
    return HttpResponseRedirect(request.path.split("/testing/")[0] + "/testing/set-password/")


def download_like(request: HttpRequest, token: str) -> HttpResponse:
    return HttpResponse(b"file contents", content_type="application/octet-stream")


def set_password(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"choose a new password")


SECRET_ROUTES = ("reset_like", "download_like")
urlpatterns = [
    *site_urlpatterns,
    *i18n_patterns(
        path("testing/reset/<str:token>/", reset_like, name="reset_like"),
        path("testing/set-password/", set_password, name="set_password"),
        path("testing/download/<str:token>/", download_like, name="download_like"),
        prefix_default_language=True,
    ),
]
