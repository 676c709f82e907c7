"""The retention of registrations: each service's days after the case closes, within SERVICE_RECORD.

When a registration's time is up its values are emptied (the row stays, with `erased_at`, for the
service's counts and the audit log's references), its case notes are deleted, and the person's
SERVICE_RECORD key is destroyed once it seals nothing else of theirs.
"""

import datetime
from collections import defaultdict

from django.db import router
from django.db.models import Q, QuerySet

from raksa.registry import SERVICE_RECORD
from raksa.retention.rules import Ending, Period, Rule, check_period, register
from raksa.services.columns import COLUMNS
from raksa.services.models import CaseNote, Registration, Service
from raksa.vault import bulk


def _period() -> Period:
    return Period(
        length=datetime.timedelta(days=SERVICE_RECORD.period_days or 0),
        starts_when_th=SERVICE_RECORD.starts_when_th,
        starts_when_en=SERVICE_RECORD.starts_when_en,
        source="services.Service.retention_days (registry:service_record)",
        at_most=True,
    )


def _due(now: datetime.datetime) -> QuerySet:
    services_by_days: dict[int, list[int]] = defaultdict(list)
    for service_id, days in Service.objects.values_list("id", "retention_days"):
        services_by_days[days].append(service_id)
    expired = Q(pk__in=[])
    for days, service_ids in services_by_days.items():
        length = check_period(datetime.timedelta(days=days), retention=SERVICE_RECORD, where="services.Service")
        expired |= Q(service_id__in=service_ids, closed_at__lte=now - length)
    return Registration.objects.filter(expired, erased_at__isnull=True, closed_at__isnull=False)


def _erase(rows: QuerySet, now: datetime.datetime) -> int:
    return rows.update(erased_at=now, **dict.fromkeys(COLUMNS))


def _delete_notes(rows: QuerySet, registration_ids: list[str]) -> int:
    return bulk.delete_dependents(
        model=CaseNote, field="registration", rows=rows, ids=registration_ids, using=router.db_for_write(CaseNote)
    )


REGISTRATIONS = register(
    Rule(
        code="services.registration",
        model="services.Registration",
        label_th="ค่าที่กรอกในการลงทะเบียนรับบริการ",
        label_en="values given when registering for a service",
        period=_period,
        due=_due,
        retention=SERVICE_RECORD,
        ending=Ending.ANONYMISE,
        end=_erase,
        end_dependents=_delete_notes,
        agency="service__agency_id",
        subject="subject_id",
        controller="controller_id",
        case="pk",
        service="service_id",
        time="created_at",
        shred=True,
        order=("closed_at", "pk"),
    )
)
