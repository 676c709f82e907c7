from django.http import HttpRequest

from raksa.content.models import SiteAppearance


def appearance(request: HttpRequest) -> dict:
    """The mourning ribbon and the grey theme, shown on every page when an administrator switches them on."""
    return {"appearance": SiteAppearance.current()}
