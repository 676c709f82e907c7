"""Bearer tokens of the mobile application: 32 random bytes for the app, only their SHA-256 stored."""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from raksa.accounts.models import AppToken, User


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue(*, user: User) -> tuple[str, datetime]:
    """A new token and when it expires (call inside the action's transaction)."""
    raw = secrets.token_urlsafe(32)
    expires_at = timezone.now() + timedelta(hours=settings.RAKSA_APP_TOKEN_HOURS)
    AppToken.objects.create(user=user, digest=_digest(raw), expires_at=expires_at)
    return raw, expires_at


def valid(raw: str) -> AppToken | None:
    """The unexpired token with this value, of an active account, or None."""
    if not raw:
        return None
    return (
        AppToken.objects.select_related("user")
        .filter(digest=_digest(raw), expires_at__gt=timezone.now(), user__is_active=True)
        .first()
    )
