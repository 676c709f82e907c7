from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from raksa.core import views as core_views

urlpatterns = [
    path("", core_views.root),
    path("healthz", core_views.healthz, name="healthz"),
    path(settings.RAKSA_ADMIN_URL, admin.site.urls),
]
urlpatterns += i18n_patterns(
    path("", include("raksa.core.urls")),
    path("", include("raksa.consent.urls")),
    prefix_default_language=True,
)
