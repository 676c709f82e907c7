"""Bearer tokens of the mobile application: 32 random bytes for the app, only their SHA-256 stored."""

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from raksa.accounts.models import AppToken, User

# Recording every request's time would write a row per request; a minute is precise enough for idleness.
TOUCH_EVERY = timedelta(minutes=1)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue(*, user: User, platform: str = "") -> tuple[str, datetime]:
    """A new token and when it expires (call inside the action's transaction)."""
    raw = secrets.token_urlsafe(32)
    expires_at = timezone.now() + timedelta(hours=settings.RAKSA_APP_TOKEN_HOURS)
    AppToken.objects.create(user=user, digest=_digest(raw), expires_at=expires_at, platform=platform[:20])
    return raw, expires_at


def working(user: User | None = None) -> QuerySet[AppToken]:
    """Tokens neither expired nor idle for RAKSA_APP_TOKEN_IDLE_HOURS (of one account, if given)."""
    now = timezone.now()
    tokens = AppToken.objects.filter(
        expires_at__gt=now, last_used_at__gt=now - timedelta(hours=settings.RAKSA_APP_TOKEN_IDLE_HOURS)
    )
    return tokens.filter(user=user) if user is not None else tokens


def valid(raw: str) -> AppToken | None:
    """The working token with this value, of an active account, or None. Using it keeps it from idling."""
    if not raw:
        return None
    found = working().select_related("user").filter(digest=_digest(raw), user__is_active=True).first()
    if found is not None:
        now = timezone.now()
        if AppToken.objects.filter(pk=found.pk, last_used_at__lt=now - TOUCH_EVERY).update(last_used_at=now):
            found.last_used_at = now
    return found


def password_given_at(token: AppToken) -> datetime:
    """When the password was last given for this token: its log-in, or a later re-authentication."""
    return max(token.created_at, token.reauthenticated_at or token.created_at)
