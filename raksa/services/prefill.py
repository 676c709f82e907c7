"""Pre-filling a registration form from the person's profile, only with their consent.

The profile's values and the consent both belong to other apps (accounts, consent). They plug in
here with `register_source` and `register_consent_check`; until a consent check is registered no
form is ever pre-filled, so nothing is copied without the person having agreed to it.
"""

from collections.abc import Callable

from django.http import HttpRequest

from raksa.services.models import Service

# category code -> (request) -> the person's value from their profile, or None
type Source = Callable[[HttpRequest], str | None]
# (request, service) -> whether the person agreed to pre-fill this service's form from their profile
type ConsentCheck = Callable[[HttpRequest, Service], bool]

_SOURCES: dict[str, Source] = {}
_CONSENT_CHECKS: list[ConsentCheck] = []


def register_source(category: str, source: Source) -> None:
    _SOURCES[category] = source


def register_consent_check(check: ConsentCheck) -> None:
    _CONSENT_CHECKS.append(check)


def prefill_offer(request: HttpRequest, service: Service) -> dict[str, str]:
    """Initial values for the categories the service declares, if the person consented; else nothing."""
    if not request.user.is_authenticated or not _CONSENT_CHECKS:
        return {}
    if not all(check(request, service) for check in _CONSENT_CHECKS):
        return {}
    values = {}
    for field in service.fields.all():
        source = _SOURCES.get(field.category)
        value = source(request) if source else None
        if value:
            values[field.category] = value
    return values
