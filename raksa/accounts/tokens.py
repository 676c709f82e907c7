"""Single-use links sent by e-mail: a random token in the link, only its SHA-256 in the database."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from raksa.accounts.models import AccountToken, TokenPurpose, User


def lifetime(purpose: str) -> timedelta:
    if purpose == TokenPurpose.RESET_PASSWORD:
        return timedelta(minutes=settings.RAKSA_RESET_LINK_MINUTES)
    if purpose == TokenPurpose.INVITATION:
        return timedelta(hours=settings.RAKSA_INVITATION_LINK_HOURS)
    return timedelta(hours=settings.RAKSA_CONFIRM_LINK_HOURS)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def cancel(*, user: User, purpose: str) -> None:
    """Earlier unused tokens of this purpose stop working."""
    AccountToken.objects.filter(user=user, purpose=purpose, used_at=None).update(used_at=timezone.now())


def issue(*, user: User, purpose: str) -> str:
    """A new token for the link. Earlier unused tokens for the same purpose stop working."""
    cancel(user=user, purpose=purpose)
    now = timezone.now()
    raw = secrets.token_urlsafe(32)
    AccountToken.objects.create(user=user, purpose=purpose, digest=_digest(raw), expires_at=now + lifetime(purpose))
    return raw


def valid(raw: str, *, purpose: str) -> AccountToken | None:
    """The unused, unexpired token with this value, or None."""
    return (
        AccountToken.objects.select_related("user")
        .filter(digest=_digest(raw), purpose=purpose, used_at=None, expires_at__gt=timezone.now())
        .first()
    )


def consume(token: AccountToken) -> bool:
    """Mark the token used; False if another request used it first."""
    return AccountToken.objects.filter(pk=token.pk, used_at=None).update(used_at=timezone.now()) == 1
