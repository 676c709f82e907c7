"""The DPO's queue: open cases by due date, what is overdue or close to it, and the SLA figures."""

import statistics
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from raksa.rights.models import CLOSED, RightsRequest

CLOSE_TO_DUE = timedelta(days=5)


def open_cases() -> QuerySet[RightsRequest]:
    return RightsRequest.objects.exclude(status__in=CLOSED).order_by("due_date", "received_at")


def overdue(*, today: date | None = None) -> QuerySet[RightsRequest]:
    return open_cases().filter(due_date__lt=today or timezone.localdate())


def close_to_due(*, today: date | None = None) -> QuerySet[RightsRequest]:
    today = today or timezone.localdate()
    return open_cases().filter(due_date__gte=today, due_date__lte=today + CLOSE_TO_DUE)


@dataclass(frozen=True)
class Sla:
    closed: int
    median_days_to_close: float | None
    share_in_time: float | None


def sla(*, since: date | None = None) -> Sla:
    """Median days from receipt to closing, and the share of closed cases closed by their due date."""
    closed = RightsRequest.objects.filter(status__in=CLOSED, closed_at__isnull=False)
    if since is not None:
        closed = closed.filter(closed_at__date__gte=since)
    rows = [
        (received, done, due)
        for received, done, due in closed.values_list("received_at", "closed_at", "due_date")
        if done
    ]
    if not rows:
        return Sla(closed=0, median_days_to_close=None, share_in_time=None)
    days = [(done - received).total_seconds() / 86400 for received, done, _due in rows]
    in_time = sum(1 for _received, done, due in rows if timezone.localdate(done) <= due)
    return Sla(closed=len(rows), median_days_to_close=statistics.median(days), share_in_time=in_time / len(rows))
