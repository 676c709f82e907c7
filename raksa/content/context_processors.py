from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from raksa.content.models import SiteAppearance


def appearance(request: HttpRequest) -> dict:
    """The mourning ribbon and the grey theme, shown on every page when an administrator switches them on.

    Kept in memory as long as public pages are (RAKSA_PUBLIC_PAGE_SECONDS): a switch shows on every
    page at the same moment.
    """
    seconds = settings.RAKSA_PUBLIC_PAGE_SECONDS
    if not seconds:
        return {"appearance": SiteAppearance.current()}
    return {"appearance": cache.get_or_set("content:appearance", SiteAppearance.current, seconds)}
