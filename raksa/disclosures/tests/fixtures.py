"""Data for the disclosures tests: a person's question to the DPO (a store with names), a court order, a processor."""

from datetime import date

from raksa.consent.models import Inquiry
from raksa.disclosures.actions import LegalDuty
from raksa.disclosures.models import Recipient, RecipientKind
from raksa.organisations.models import Agency
from raksa.services.tests.builders import publish_policy
from raksa.subjects.models import Subject
from raksa.vault.actions import save_sealed

__all__ = ["ORDER", "court_order", "inquiry", "publish_policy", "thai_post"]

ORDER = b"%PDF-1.4 court order"


def inquiry(agency: Agency, subject: Subject, name: str = "มาลี ใจดี", email: str = "malee@example.org") -> Inquiry:
    row = Inquiry(subject=subject, controller_id=agency.controller_id, agency=agency, kind="question")
    row.reference = f"Q-{str(row.pk)[:8]}"
    row.name, row.email, row.message = name, email, "ขอทราบข้อมูล"
    save_sealed(row)
    return row


def court_order(**changes: object) -> LegalDuty:
    values: dict = {
        "reference": "คำสั่งศาลแพ่ง ที่ 123/2569",
        "issuing_authority": "ศาลแพ่ง",
        "order_date": date(2026, 11, 1),
        "document": ORDER,
        "document_name": "order.pdf",
    }
    return LegalDuty(**(values | changes))


def thai_post(agency: Agency, **changes: object) -> Recipient:
    """A postal-delivery processor contracted for names (U3)."""
    values: dict = {
        "slug": "thai-post",
        "name_th": "ไปรษณีย์ไทย",
        "name_en": "Thailand Post",
        "kind": RecipientKind.PROCESSOR,
        "contract_reference": "สัญญา 12/2569",
        "purposes": ["contact"],
        "fields": ["consent.inquiry.name"],
    }
    return Recipient.objects.create(agency=agency, **(values | changes))
