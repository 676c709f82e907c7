from django.http import HttpRequest

from raksa.content.models import SiteAppearance
from raksa.core.caching import published


def appearance(request: HttpRequest) -> dict:
    """The mourning ribbon and the grey theme, shown on every page when an administrator switches them on.

    Kept in memory as long as public pages are (RAKSA_PUBLIC_PAGE_SECONDS): a switch shows on every
    page at the same moment.
    """
    return {"appearance": published("content:appearance", SiteAppearance.current)}
