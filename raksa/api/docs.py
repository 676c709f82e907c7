"""The interactive documentation page: django-ninja's own Swagger UI files, served from this site.

The page has no inline script or style, so the site's Content-Security-Policy applies unchanged.
"Try it out" from a logged-in browser sends the page's CSRF token, as the site's own scripts do.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from ninja import NinjaAPI
from ninja.openapi.docs import Swagger


class SiteSwagger(Swagger):
    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        settings = {**self.settings, "url": self.get_openapi_url(api, kwargs)}
        context = {"swagger_settings": settings, "api": api, "add_csrf": True}
        return render(request, "api/docs.html", context)
