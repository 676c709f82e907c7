from django.urls import path

from raksa.api.api import api, not_found

# The download link's single-use token is in its path: the access log keeps only what comes before
# /me/exports/ (raksa.accesslog.redaction), as for the website's download link.
SECRET_ROUTES = ("api:export_download",)

urlpatterns = [
    path("", api.urls),
    path("<path:rest>", not_found),
]
