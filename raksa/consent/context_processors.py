from django.http import HttpRequest

from raksa.consent import policies
from raksa.consent.cookies import POLICY_SEEN_COOKIE
from raksa.consent.models import PolicyAcceptance, PolicyVersion
from raksa.core.caching import published


def _last_seen_number(request: HttpRequest) -> int | None:
    subject_id = getattr(request.user, "subject_id", None) if request.user.is_authenticated else None
    if subject_id is not None:
        acceptance = (
            PolicyAcceptance.objects.filter(subject_id=subject_id, version__agency__isnull=True)
            .order_by("-version__number")
            .values_list("version__number", flat=True)
            .first()
        )
        if acceptance is not None:
            return acceptance
    seen = request.COOKIES.get(POLICY_SEEN_COOKIE, "")
    return int(seen) if seen.isdigit() else None


def _current_platform_number() -> int | None:
    current = policies.current_platform_policy()
    return current.number if current is not None else None


def consent(request: HttpRequest) -> dict:
    """The cookie banner's state, and the summary of policy changes for people who accepted an older one."""
    choice = getattr(request, "cookie_choice", None)
    context: dict = {"show_cookie_banner": bool(choice and choice.needs_asking), "policy_changes": []}
    seen = _last_seen_number(request)
    if seen is not None:
        # The same for everyone: read once per public-page lifetime, not on every page.
        current = published("consent:platform-policy-number", _current_platform_number)
        if current is not None and current > seen:
            context["policy_changes"] = list(
                PolicyVersion.objects.filter(
                    agency__isnull=True, status="published", number__gt=seen, number__lte=current
                ).order_by("number")
            )
    return context
