"""The personal data the disclosures app holds: the order a disclosure was made under (D1(c))."""

from raksa.registry import CASE_FILE, LEGAL_OBLIGATION, MESSAGE, Purpose, declare, register_purpose

DISCLOSURE_RECORDS = register_purpose(
    Purpose(
        "disclosure_records",
        "บันทึกการเปิดเผยข้อมูลและหลักฐานตามกฎหมาย",
        "keeping the record of disclosures and their legal evidence",
        promises=("D1",),
    )
)

declare(
    "disclosures.Disclosure",
    "document",
    category=MESSAGE,
    purposes=[DISCLOSURE_RECORDS],
    legal_basis=LEGAL_OBLIGATION,
    retention=CASE_FILE,
)
