"""The access log in the retention plan: its raw records leave by day, by `raksa accesslog purge`.

The access log keeps its own mechanism (a day's key destroyed, then its partition dropped: see
raksa.accesslog.actions.purge_expired_days) and its own legal holds (time ranges placed for an
investigation), so `raksa retention run` leaves it; the rule here puts it in `raksa retention plan`
— what the purge ends today, by day, and what its holds keep — and gives the policy its period
(for the records, their day's clients and reverse-DNS names alike)
from the same setting the purge reads, checked against the legal minimum of the Computer-Related
Crime Act s26 (90 days).
"""

import datetime
from collections.abc import Callable

from django.conf import settings
from django.db import models
from django.db.models import QuerySet

from raksa.accesslog.actions import day_bounds, held_days, local_today
from raksa.accesslog.models import AccessRecord, DayClient, LegalHold, ReverseName
from raksa.registry import ACCESS_LOG
from raksa.retention.rules import Period, Rule, register


def _period() -> Period:
    return Period(
        length=datetime.timedelta(days=settings.RAKSA_ACCESSLOG_RAW_DAYS),
        starts_when_th=ACCESS_LOG.starts_when_th,
        starts_when_en=ACCESS_LOG.starts_when_en,
        source="RAKSA_ACCESSLOG_RAW_DAYS (registry:access_log)",
    )


def _expired(model: type[models.Model], now: datetime.datetime) -> QuerySet:
    return model._default_manager.filter(day__lt=local_today(now) - _period().length)


def _due(model: type[models.Model]) -> Callable[[datetime.datetime], QuerySet]:
    def due(now: datetime.datetime) -> QuerySet:
        """The rows of the days past the period, except days an access-log hold covers (in part)."""
        expired = _expired(model, now)
        days = list(expired.order_by().values_list("day", flat=True).distinct())
        return expired.exclude(day__in=held_days(days))

    return due


def _kept_by_holds(model: type[models.Model]) -> Callable[[datetime.datetime], list[tuple[str, int]]]:
    def kept_by_holds(now: datetime.datetime) -> list[tuple[str, int]]:
        """Each access-log hold in force and how many expired rows it keeps (whole days)."""
        expired = _expired(model, now)
        days = list(expired.order_by().values_list("day", flat=True).distinct())
        kept = []
        for hold in LegalHold.objects.filter(released_at__isnull=True).order_by("starts_at"):
            covered = [day for day in days if _overlaps(hold, day)]
            count = expired.filter(day__in=covered).count() if covered else 0
            if count:
                kept.append((f"access-log hold {hold.pk} ({hold})", count))
        return kept

    return kept_by_holds


def _overlaps(hold: LegalHold, day: datetime.date) -> bool:
    start, end = day_bounds(day)
    return hold.starts_at < end and hold.ends_at > start


# A day's records, its clients (sealed IP and browser string) and its reverse-DNS names leave together:
# one rule each, so that the plan counts each and the policy gives each personal field the same period.
for _model, _label_th, _label_en in (
    (AccessRecord, "บันทึกการเข้าใช้งานเว็บไซต์ (ข้อมูลจราจรทางคอมพิวเตอร์)", "raw access-log records (computer traffic data)"),
    (
        DayClient,
        "ผู้ใช้งานของแต่ละวันในบันทึกการเข้าใช้งาน (หมายเลขไอพีและเบราว์เซอร์ที่เข้ารหัสไว้)",
        "access-log clients of each day (sealed IP address and browser string)",
    ),
    (
        ReverseName,
        "ชื่อโดเมนของหมายเลขไอพีในบันทึกการเข้าใช้งาน",
        "reverse-DNS names of the access log's IP addresses",
    ),
):
    register(
        Rule(
            code=_model._meta.label_lower,
            model=_model._meta.label,
            label_th=_label_th,
            label_en=_label_en,
            period=_period,
            due=_due(_model),
            retention=ACCESS_LOG,
            day="day",
            run_by="raksa accesslog purge",
            own_holds=_kept_by_holds(_model),
        )
    )
