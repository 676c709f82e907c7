"""Rate limits shared by every server process: fixed one-minute windows counted in the database.

Clients are told apart by account once authenticated, else by address (the peer address, as the
log-in throttle sees it: raksa.core.clients.client_address); both are keyed hashes, so neither
is stored. Log-in failures are throttled separately, per (account, address), by the accounts app.
"""

import time
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils.crypto import salted_hmac
from ninja.throttling import BaseThrottle

from raksa.api.models import RequestCount
from raksa.core.clients import client_address

WINDOW_SECONDS = 60


def _bucket(scope: str, request: HttpRequest) -> str:
    user = getattr(request, "auth", None)
    who = (
        f"account:{user.pk}" if user is not None and hasattr(user, "pk") else f"address:{client_address(request.META)}"
    )
    return salted_hmac("raksa.api.throttling", f"{scope}:{who}", algorithm="sha256").hexdigest()


def count_request(bucket: str, minute: int) -> int:
    """Adds one request to the bucket's minute and answers how many it now holds."""
    with transaction.atomic():
        if not RequestCount.objects.filter(bucket=bucket, minute=minute).update(count=F("count") + 1):
            try:
                with transaction.atomic():
                    RequestCount.objects.create(bucket=bucket, minute=minute, count=1)
            except IntegrityError:
                # Another process opened the same minute at the same moment.
                RequestCount.objects.filter(bucket=bucket, minute=minute).update(count=F("count") + 1)
            else:
                # A new minute: the finished ones are of no use any more.
                RequestCount.objects.filter(minute__lt=minute - 1).delete()
        return RequestCount.objects.values_list("count", flat=True).get(bucket=bucket, minute=minute)


class MinuteRate(BaseThrottle):
    def __init__(self, scope: str, limit: Callable[[], int]) -> None:
        self.scope = scope
        self.limit = limit

    def allow_request(self, request: HttpRequest) -> bool:
        minute = int(time.time() // WINDOW_SECONDS)
        return count_request(_bucket(self.scope, request), minute) <= self.limit()

    def wait(self) -> float:
        return WINDOW_SECONDS - time.time() % WINDOW_SECONDS


# Every request, per account (or per address before log-in).
EVERY_REQUEST = MinuteRate("api", lambda: settings.RAKSA_API_REQUESTS_PER_MINUTE)
# Creating accounts, logging in and passwords: per address, much lower.
ACCOUNT_ENDPOINTS = MinuteRate("account", lambda: settings.RAKSA_API_ACCOUNT_REQUESTS_PER_MINUTE)
