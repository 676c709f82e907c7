"""The access log's invariants, checked by `manage.py check` (so by CI and at every start).

accesslog.E001  the capture middleware is missing or not first in MIDDLEWARE
accesslog.E002  RAKSA_ACCESSLOG_RAW_DAYS is below the 90 days of the Computer-Related Crime Act s26
accesslog.E003  a secret route (SECRET_ROUTES) whose fixed prefix cannot be derived
"""

from collections.abc import Iterable
from typing import Any

from django.apps.config import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from raksa.accesslog.redaction import secret_route_prefixes

MIDDLEWARE = "raksa.accesslog.middleware.AccessLogMiddleware"
MINIMUM_RAW_DAYS = 90


@register("accesslog")
def check_access_log(app_configs: Iterable[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    if not settings.MIDDLEWARE or settings.MIDDLEWARE[0] != MIDDLEWARE:
        messages.append(
            Error(
                f"{MIDDLEWARE} must be the first entry of MIDDLEWARE.",
                hint="Elsewhere it would miss requests answered by an earlier middleware, or their final status.",
                id="accesslog.E001",
            )
        )
    if settings.RAKSA_ACCESSLOG_RAW_DAYS < MINIMUM_RAW_DAYS:
        messages.append(
            Error(
                f"RAKSA_ACCESSLOG_RAW_DAYS is {settings.RAKSA_ACCESSLOG_RAW_DAYS}; the law requires at least 90.",
                id="accesslog.E002",
            )
        )
    try:
        secret_route_prefixes()
    except TypeError as error:
        messages.append(Error(f"A secret route cannot be redacted: {error}.", id="accesslog.E003"))
    return messages
