"""Rate limits shared by every server process: a sliding window, kept in the database.

A client may make at most N requests in ANY 60 seconds (not per clock minute: fixed windows let 2N
through around a minute's boundary). Each client's row holds the times of its admitted requests in
the last window, at most N of them; a request is admitted when fewer than N fall inside the window,
else it is refused with the seconds until the oldest leaves it (Retry-After). The row is locked while
it is read and written (SELECT … FOR UPDATE on PostgreSQL; SQLite's transactions here begin
IMMEDIATE), so concurrent processes never both take the last place.

Clients are told apart by account once authenticated, else by address (the peer address, as the
log-in throttle sees it: raksa.core.clients.client_address); both are keyed hashes, so neither
is stored. Log-in failures are throttled separately, per (account, address), by the accounts app.
"""

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.crypto import salted_hmac
from ninja.throttling import BaseThrottle

from raksa.api.models import RecentRequests
from raksa.core.clients import client_address

WINDOW_SECONDS = 60


def _bucket(scope: str, request: HttpRequest) -> str:
    user = getattr(request, "auth", None)
    who = (
        f"account:{user.pk}" if user is not None and hasattr(user, "pk") else f"address:{client_address(request.META)}"
    )
    return salted_hmac("raksa.api.throttling", f"{scope}:{who}", algorithm="sha256").hexdigest()


def admit(bucket: str, *, limit: int, now: float, window: float = WINDOW_SECONDS) -> float:
    """Records the request if fewer than `limit` of the bucket's came in the last `window` seconds and
    answers 0; otherwise records nothing and answers the seconds until one more would be admitted."""
    moment = datetime.fromtimestamp(now, tz=UTC)
    with transaction.atomic():
        row = RecentRequests.objects.select_for_update().filter(bucket=bucket).first()
        if row is None:
            try:
                with transaction.atomic():
                    RecentRequests.objects.create(bucket=bucket, times=[now], last_at=moment)
            except IntegrityError:
                # Another process made the row at the same moment: take its lock and count as usual.
                row = RecentRequests.objects.select_for_update().get(bucket=bucket)
            else:
                # A client new to this window: rows of clients idle for a whole window are of no use.
                RecentRequests.objects.filter(last_at__lt=moment - timedelta(seconds=window)).delete()
                return 0.0
        recent = sorted(t for t in row.times if t > now - window)
        if len(recent) >= limit:
            # The request waits until enough of them leave the window for one more to fit.
            return max(recent[len(recent) - limit] + window - now, 0.001)
        row.times = [*recent, now][-limit:]
        row.last_at = moment
        row.save(update_fields=["times", "last_at"])
    return 0.0


class SlidingRate(BaseThrottle):
    def __init__(self, scope: str, limit: Callable[[], int]) -> None:
        self.scope = scope
        self.limit = limit
        # wait() is asked right after allow_request() refused, on the same thread.
        self._refused = threading.local()

    def allow_request(self, request: HttpRequest) -> bool:
        wait = admit(_bucket(self.scope, request), limit=self.limit(), now=time.time())
        self._refused.wait = wait
        return wait == 0.0

    def wait(self) -> float:
        return float(getattr(self._refused, "wait", WINDOW_SECONDS))


# Every request, per account (or per address before log-in).
EVERY_REQUEST = SlidingRate("api", lambda: settings.RAKSA_API_REQUESTS_PER_MINUTE)
# Creating accounts, logging in and passwords: per address, much lower.
ACCOUNT_ENDPOINTS = SlidingRate("account", lambda: settings.RAKSA_API_ACCOUNT_REQUESTS_PER_MINUTE)
