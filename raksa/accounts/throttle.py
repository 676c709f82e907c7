"""Slowing and locking failed log-ins per (account, address), always with a cool-off.

Keyed by the pair, so an attacker elsewhere cannot lock the owner out; keyed hashes, so neither the
address nor a mistyped user ID is stored; an unknown user ID is throttled exactly like a real one.
"""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from raksa.accounts.models import LoginThrottle, User
from raksa.core.clients import client_address

# Repeated failures far apart are not an attack: the count starts again after a quiet day.
FORGET_AFTER = timedelta(days=1)
LONGEST_SLOWDOWN = timedelta(seconds=60)


@dataclass(frozen=True)
class Pair:
    account_key: str
    address_key: str


def _keyed(kind: str, value: str) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"raksa.accounts.throttle:{kind}:{value}".encode(), hashlib.sha256
    ).hexdigest()


def pair_for(request: HttpRequest, *, user: User | None, identifier: str) -> Pair:
    account = f"user:{user.pk}" if user is not None else f"id:{identifier.strip().casefold()}"
    return Pair(account_key=_keyed("account", account), address_key=_keyed("address", client_address(request.META)))


def failures_of(pair: Pair) -> LoginThrottle | None:
    """The pair's count of recent failures, if it has one."""
    return LoginThrottle.objects.filter(account_key=pair.account_key, address_key=pair.address_key).first()


def blocked_until(row: LoginThrottle | None) -> datetime | None:
    """When the pair with these failures may try again, or None if it may try now."""
    if row is None or row.blocked_until is None or row.blocked_until <= timezone.now():
        return None
    return row.blocked_until


def delay_after(failures: int) -> timedelta | None:
    if failures >= settings.RAKSA_LOGIN_LOCK_AFTER:
        return timedelta(minutes=settings.RAKSA_LOGIN_LOCK_MINUTES)
    if failures >= settings.RAKSA_LOGIN_SLOW_AFTER:
        return min(timedelta(seconds=2 ** (failures - settings.RAKSA_LOGIN_SLOW_AFTER)), LONGEST_SLOWDOWN)
    return None


@transaction.atomic
def record_failure(pair: Pair) -> LoginThrottle:
    now = timezone.now()
    row, _created = LoginThrottle.objects.select_for_update().get_or_create(
        account_key=pair.account_key, address_key=pair.address_key, defaults={"last_failure_at": now}
    )
    if now - row.last_failure_at > FORGET_AFTER:
        row.failures = 0
    row.failures += 1
    row.last_failure_at = now
    delay = delay_after(row.failures)
    row.blocked_until = now + delay if delay else None
    row.save()
    return row


def is_lockout(row: LoginThrottle) -> bool:
    return row.failures >= settings.RAKSA_LOGIN_LOCK_AFTER


def clear(pair: Pair) -> None:
    LoginThrottle.objects.filter(account_key=pair.account_key, address_key=pair.address_key).delete()


def forget_account(user: User) -> None:
    """After a password reset the owner has proven control: earlier failures no longer count."""
    LoginThrottle.objects.filter(account_key=_keyed("account", f"user:{user.pk}")).delete()
