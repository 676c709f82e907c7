from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap as sitemap_view
from django.urls import include, path
from django.views.decorators.http import require_safe
from django.views.generic import RedirectView

from raksa.content import views as content_views
from raksa.content.sitemaps import SITEMAPS
from raksa.core import views as core_views

handler500 = core_views.server_error

urlpatterns = [
    path("", core_views.root),
    path("healthz", core_views.healthz, name="healthz"),
    # Everyone logs in through the site's own page: throttled, with the second factor and session limits.
    path(f"{settings.RAKSA_ADMIN_URL}login/", RedirectView.as_view(pattern_name="accounts:login", query_string=True)),
    path(settings.RAKSA_ADMIN_URL, admin.site.urls),
    path("sitemap.xml", require_safe(sitemap_view), {"sitemaps": SITEMAPS}, name="sitemap"),
    path("media/<path:name>", content_views.media, name="media"),
    # The JSON API has no language prefix: it answers in the language of Accept-Language.
    path("api/v1/", include("raksa.api.urls")),
]
urlpatterns += i18n_patterns(
    path("", include("raksa.core.urls")),
    path("", include("raksa.consent.urls")),
    path("", include("raksa.content.urls")),
    path("accounts/", include("raksa.accounts.urls", namespace="accounts")),
    path("", include("raksa.audit.urls")),
    path("staff/statistics/", include("raksa.accesslog.urls")),
    path("services/", include("raksa.services.urls")),
    path("", include("raksa.disclosures.urls")),
    path("", include("raksa.rights.urls", namespace="rights")),
    path("", include("raksa.retention.urls")),
    prefix_default_language=True,
)
