"""Deployment checks (`raksa check --deploy`) for the promises the accounts app keeps.

accounts.E001  the first password hasher is weaker than Argon2id at OWASP's floor (m=19 MiB, t=2, p=1)
accounts.E002  a password reset link lives longer than an hour
accounts.E003  the session store is not Raksa's (sessions could not be listed or ended per account)
"""

from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import get_hasher
from django.core.checks import CheckMessage, Error, Tags, register

OWASP_MEMORY_KIB = 19 * 1024
OWASP_TIME_COST = 2


@register(Tags.security, deploy=True)
def check_accounts(**kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    hasher = get_hasher()
    memory, time_cost = getattr(hasher, "memory_cost", 0), getattr(hasher, "time_cost", 0)
    if hasher.algorithm != "argon2" or memory < OWASP_MEMORY_KIB or time_cost < OWASP_TIME_COST:
        errors.append(
            Error(
                f"Passwords are hashed with {type(hasher).__name__}, below Argon2id m=19 MiB, t=2, p=1.",
                hint="PASSWORD_HASHERS must start with raksa.accounts.hashers.Argon2idHasher (A2).",
                id="accounts.E001",
            )
        )
    if settings.RAKSA_RESET_LINK_MINUTES > 60:
        errors.append(
            Error(
                "Password reset links must expire within an hour.",
                hint="RAKSA_RESET_LINK_MINUTES ≤ 60",
                id="accounts.E002",
            )
        )
    if settings.SESSION_ENGINE != "raksa.accounts.sessions":
        errors.append(
            Error(
                "Sessions must use raksa.accounts.sessions so people can see and end them (A4).",
                id="accounts.E003",
            )
        )
    return errors
