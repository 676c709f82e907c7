"""The retention of disclosure records: the class their evidence is declared under, from the disclosure."""

from raksa.disclosures.models import Disclosure
from raksa.registry import registry
from raksa.retention.rules import Period, Rule, register


def _period() -> Period:
    return Period.of_class(registry.declaration("disclosures.Disclosure", "document").retention)


register(
    Rule(
        code="disclosures.disclosure",
        model="disclosures.Disclosure",
        label_th="บันทึกการเปิดเผยข้อมูลส่วนบุคคล",
        label_en="records of disclosures",
        period=_period,
        due=lambda now: Disclosure.objects.filter(disclosed_at__lte=now - _period().length),
        retention=registry.declaration("disclosures.Disclosure", "document").retention,
        agency="agency_id",
        subject="subject_id",
        controller="controller_id",
        time="disclosed_at",
        shred=True,
    )
)
