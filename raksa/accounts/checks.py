"""Deployment checks (`raksa check --deploy`) for the promises the accounts app keeps.

accounts.E001  the first password hasher is not Argon2id at or above one of OWASP's minimums for it
accounts.E002  a password reset link lives longer than an hour
accounts.E003  the session store is not Raksa's (sessions could not be listed or ended per account)
"""

from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import BasePasswordHasher, get_hasher
from django.core.checks import CheckMessage, Error, Tags, register

from raksa.accounts.hashers import OWASP_ARGON2ID_MINIMUMS


@register(Tags.security, deploy=True)
def check_accounts(**kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    hasher = get_hasher()
    if not at_an_owasp_minimum(hasher):
        errors.append(
            Error(
                f"Passwords are hashed with {type(hasher).__name__}, below OWASP's minimums for Argon2id.",
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


def at_an_owasp_minimum(hasher: BasePasswordHasher) -> bool:
    """Django's Argon2 hashers make Argon2id; its memory and passes must both reach one of OWASP's rows."""
    if hasher.algorithm != "argon2":
        return False
    memory, passes = getattr(hasher, "memory_cost", 0), getattr(hasher, "time_cost", 0)
    return any(memory >= least and passes >= fewest for least, fewest in OWASP_ARGON2ID_MINIMUMS)
