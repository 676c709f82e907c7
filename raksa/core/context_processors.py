from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse, translate_url
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from raksa.core.caching import published
from raksa.organisations.models import Controller

# The site's navigation. An entry shows once the capability behind it exists (its URL reverses).
NAVIGATION = [
    ("core:home", _("Home")),
    ("content:news", _("News")),
    ("services:calendar", _("Calendar")),
    ("services:list", _("Services")),
    ("consent:privacy_policy", _("Privacy policy")),
    ("core:contact", _("Contact us")),
]
FOOTER_POLICIES = [
    ("consent:privacy_policy", _("Privacy policy")),
    ("content:website_policy", _("Website policy")),
    ("content:security_policy", _("Website security policy")),
]


def _links(entries: list, current_path: str) -> list[dict]:
    links = []
    for name, label in entries:
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        links.append({"url": url, "label": label, "current": url == current_path})
    return links


def _platform() -> Controller | None:
    return Controller.objects.filter(is_platform_operator=True).first()


def site(request: HttpRequest) -> dict:
    language = get_language()
    other = "en" if language == "th" else "th"
    return {
        "navigation": _links(NAVIGATION, request.path),
        "footer_policies": _links(FOOTER_POLICIES, request.path),
        "platform": published("core:platform", _platform),
        "other_language": {
            "code": other,
            # The switch keeps the page: the same URL under the other language prefix.
            "url": translate_url(request.get_full_path(), other),
            "label": "English" if other == "en" else "ภาษาไทย",
        },
    }
