"""The retention of consent evidence (kept for a time after withdrawal) and of questions to the DPO."""

import datetime

from django.db.models import QuerySet

from raksa.consent.models import Consent, ConsentEvent, Inquiry
from raksa.registry import CONSENT_EVIDENCE, registry
from raksa.retention.rules import Period, Rule, register


def _evidence() -> Period:
    return Period.of_class(CONSENT_EVIDENCE)


def _withdrawn_long_ago(now: datetime.datetime) -> QuerySet:
    """Consents withdrawn, with no grant or withdrawal since the evidence period began."""
    cutoff = now - _evidence().length
    return Consent.objects.filter(granted=False).exclude(events__at__gt=cutoff)


def _delete_with_events(rows: QuerySet, now: datetime.datetime) -> int:
    ConsentEvent.objects.filter(consent__in=rows.values("pk")).delete()
    deleted, _by_model = rows.delete()
    return deleted


register(
    Rule(
        code="consent.consent",
        model="consent.Consent",
        label_th="หลักฐานการให้และถอนความยินยอม",
        label_en="evidence of consents given and withdrawn",
        period=_evidence,
        due=_withdrawn_long_ago,
        retention=CONSENT_EVIDENCE,
        end=_delete_with_events,
        agency="agency_id",
        subject="subject_id",
        controller="controller_id",
        time="updated_at",
    )
)


def _inquiries() -> Period:
    return Period.of_class(registry.declaration("consent.Inquiry", "message").retention)


register(
    Rule(
        code="consent.inquiry",
        model="consent.Inquiry",
        label_th="คำถาม ข้อเสนอแนะ และข้อร้องเรียนถึงเจ้าหน้าที่คุ้มครองข้อมูลส่วนบุคคล",
        label_en="questions, suggestions and complaints to the DPO",
        period=_inquiries,
        due=lambda now: Inquiry.objects.filter(answered_at__lte=now - _inquiries().length),
        retention=registry.declaration("consent.Inquiry", "message").retention,
        agency="agency_id",
        subject="subject_id",
        controller="controller_id",
        case="pk",
        time="received_at",
        shred=True,
    )
)
