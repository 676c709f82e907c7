from django.urls import path

from raksa.api.api import api, not_found

urlpatterns = [
    path("", api.urls),
    path("<path:rest>", not_found),
]
