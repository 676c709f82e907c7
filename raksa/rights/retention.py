"""The retention of the rights app's stores: export files with their download links, and request case files."""

from django.db.models import Q

from raksa.registry import registry
from raksa.retention.rules import Period, Rule, register
from raksa.rights.exports import LINK_LIFETIME
from raksa.rights.models import Export, RightsRequest


def _export_period() -> Period:
    return Period(
        length=LINK_LIFETIME,
        starts_when_th="ไฟล์พร้อมให้ดาวน์โหลด (หรือเมื่อดาวน์โหลดแล้ว)",
        starts_when_en="the file is ready (or as soon as it is downloaded)",
        source="raksa.rights.exports.LINK_LIFETIME",
    )


register(
    Rule(
        code="rights.export",
        model="rights.Export",
        label_th="ไฟล์ข้อมูลส่วนบุคคลที่ขอดาวน์โหลดและลิงก์ดาวน์โหลด",
        label_en="data export files and their download links",
        period=_export_period,
        due=lambda now: Export.objects.filter(
            Q(expires_at__lte=now)
            | Q(downloaded_at__isnull=False)
            | Q(expires_at__isnull=True, created_at__lte=now - LINK_LIFETIME)
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
