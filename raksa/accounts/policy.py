"""The platform privacy policy a person accepts at sign-up.

Until the consent app (issue 8) publishes frozen policy versions, the version shown is the
configured string (RAKSA_PLATFORM_POLICY_VERSION), recorded in PolicyAcceptance.
"""

from dataclasses import dataclass

from django.conf import settings
from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class PolicyVersion:
    version: str
    url: str | None


def current_platform_policy() -> PolicyVersion:
    try:
        url: str | None = reverse("consent:privacy_policy")
    except NoReverseMatch:
        url = None
    return PolicyVersion(version=settings.RAKSA_PLATFORM_POLICY_VERSION, url=url)
