"""The audit log's rule: entries leave only as a whole sealed segment, behind a signed checkpoint.

The core (raksa/audit) never imports a feature app, so its rule is stated here. The log is kept as
long as the longest period a law sets in the registry (it proves who looked at the records those
laws keep). A segment is every entry up to the latest signed checkpoint made that long ago: the
plan counts it. The application's database role may only INSERT and SELECT audit rows and the
append-only triggers refuse deletion, so `raksa retention run` leaves it; `raksa retention run
--owner`, connected as the tables' owner, removes it whole (raksa.audit.segments: the log is
verified first, the segment deleted in one transaction, and `raksa audit verify` then starts from
that checkpoint).
"""

import datetime
from collections import Counter

from django.conf import settings
from django.db.models import QuerySet

from raksa.audit import segments
from raksa.audit.models import AuditCheckpoint, AuditEntry
from raksa.registry import RetentionClass, registry
from raksa.retention.rules import Period, Rule, register


def _longest_legal_class() -> RetentionClass:
    kept_by_law = [c for c in registry.retention_classes() if c.law and c.period_days is not None]
    return max(kept_by_law, key=lambda retention: retention.period_days or 0)


def _period() -> Period:
    retention = _longest_legal_class()
    return Period(
        length=datetime.timedelta(days=retention.period_days or 0),
        starts_when_th="ลงนามจุดตรวจสอบ (checkpoint) ที่ปิดท้ายช่วงของบันทึก",
        starts_when_en="the signed checkpoint that closes the segment",
        source=f"registry: the longest period a law sets ({retention.code})",
    )


def _due_checkpoint(now: datetime.datetime) -> AuditCheckpoint | None:
    """The latest checkpoint signed a whole period ago, if any."""
    return AuditCheckpoint.objects.filter(time__lte=now - _period().length).order_by("-sequence").first()


def _sealed_segment(now: datetime.datetime) -> QuerySet:
    """The entries up to the latest checkpoint signed a whole period ago; none if there is none."""
    checkpoint = _due_checkpoint(now)
    if checkpoint is None:
        return AuditEntry.objects.none()
    return AuditEntry.objects.filter(link__sequence__lte=checkpoint.sequence)


def _remove_segment(now: datetime.datetime) -> Counter[int | None]:
    """Removes the due segment whole (verified first against the operator's checkpoint file too)."""
    checkpoint = _due_checkpoint(now)
    if checkpoint is None or not AuditEntry.objects.filter(link__sequence__lte=checkpoint.sequence).exists():
        return Counter()
    file = settings.RAKSA_AUDIT_CHECKPOINT_FILE
    removed = segments.remove_segment(checkpoint=checkpoint, checkpoint_file=file if file.exists() else None)
    return removed.by_agency


AUDIT_SEGMENTS = register(
    Rule(
        code="audit.auditentry",
        model="audit.AuditEntry",
        label_th="บันทึกการตรวจสอบ (ทั้งช่วงที่ปิดด้วยจุดตรวจสอบที่ลงนามแล้ว)",
        label_en="audit log entries (whole segments sealed by a signed checkpoint)",
        period=_period,
        due=_sealed_segment,
        agency="agency_id",
        subject="subject_id",
        time="time",
        owner_only=(
            "the application's database role cannot delete audit entries (append-only triggers): "
            "`raksa retention run --owner`, connected as the tables' owner, removes a due segment whole"
        ),
        owner_end=_remove_segment,
    )
)
