"""The retention of the rights app's stores: export files and their links, and request case files.

The two export rules are the steps of `raksa rights_cleanup` (raksa.rights.exports.forget_stale_exports)
as the engine's rules, on the same constants; that command also fails abandoned exports, which is
not retention.
"""

import datetime

from django.db.models import QuerySet

from raksa.registry import registry
from raksa.retention.rules import Ending, Period, Rule, register
from raksa.rights.exports import FINISHED_ROW_LIFETIME, LINK_LIFETIME
from raksa.rights.models import Export, ExportStatus, RightsRequest


def _export_period() -> Period:
    return Period(
        length=LINK_LIFETIME,
        starts_when_th="ไฟล์พร้อมให้ดาวน์โหลด (หรือเมื่อดาวน์โหลดแล้ว)",
        starts_when_en="the file is ready (or as soon as it is downloaded)",
        source="raksa.rights.exports.LINK_LIFETIME",
    )


def _empty_expired(rows: QuerySet, now: datetime.datetime) -> int:
    """As `forget_stale_exports` does one by one: the copy and the link go, the row says it expired."""
    return rows.update(content=None, token_digest="", status=ExportStatus.EXPIRED)  # clears a digest, not a password  # nosec B106


# Downloading empties the file at once (raksa/rights/exports.py); a link never used ends here.
register(
    Rule(
        code="rights.export",
        model="rights.Export",
        label_th="ไฟล์ข้อมูลส่วนบุคคลที่ขอดาวน์โหลดและลิงก์ดาวน์โหลด",
        label_en="data export files and their download links",
        period=_export_period,
        due=lambda now: Export.objects.filter(status=ExportStatus.READY, expires_at__lte=now),
        ending=Ending.ANONYMISE,
        end=_empty_expired,
        subject="subject_id",
        controller="controller_id",
        time="created_at",
    )
)


def _finished_period() -> Period:
    return Period(
        length=FINISHED_ROW_LIFETIME,
        starts_when_th="ขอดาวน์โหลด (เฉพาะบันทึกว่าเคยขอ ไม่มีข้อมูลแล้ว)",
        starts_when_en="the download was asked for (the record that it was, with no data left)",
        source="raksa.rights.exports.FINISHED_ROW_LIFETIME",
    )


register(
    Rule(
        code="rights.export_record",
        model="rights.Export",
        label_th="บันทึกการขอดาวน์โหลดที่เสร็จสิ้นแล้ว",
        label_en="records of finished downloads",
        period=_finished_period,
        due=lambda now: Export.objects.filter(
            status__in=[ExportStatus.DOWNLOADED, ExportStatus.EXPIRED, ExportStatus.FAILED],
            created_at__lte=now - FINISHED_ROW_LIFETIME,
            content__isnull=True,
        ),
        subject="subject_id",
        controller="controller_id",
        time="created_at",
    )
)


def _case_files() -> Period:
    return Period.of_class(registry.declaration("rights.RightsRequest", "details").retention)


register(
    Rule(
        code="rights.rightsrequest",
        model="rights.RightsRequest",
        label_th="แฟ้มคำร้องขอใช้สิทธิของเจ้าของข้อมูล",
        label_en="data-subject request case files",
        period=_case_files,
        due=lambda now: RightsRequest.objects.filter(closed_at__lte=now - _case_files().length),
        retention=registry.declaration("rights.RightsRequest", "details").retention,
        subject="subject_id",
        controller="controller_id",
        case="pk",
        time="received_at",
        shred=True,
    )
)
