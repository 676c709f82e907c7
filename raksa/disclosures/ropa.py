"""The record of processing activities (PDPA s39), generated per agency, never hand-written.

`build(agency)` reads the registry and the configured processing (`processing_for`: declarations,
services' fields), the recipients register, retention classes, the security measures below, the
disclosures made and the requests refused or objected to, and returns the eight items of s39 as
rows in Thai and English. `as_csv` and `as_pdf` (raksa/disclosures/pdf.py) write them out.
"""

import csv
import io
from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db.models import Count

from raksa.audit.models import AuditEntry, Outcome
from raksa.consent.policies import processing_for, retention_text
from raksa.disclosures.models import Basis, Disclosure, Recipient
from raksa.organisations.models import Agency, StaffMembership
from raksa.registry import registry

ITEMS: tuple[tuple[str, str], ...] = (
    ("ข้อมูลส่วนบุคคลที่มีการเก็บรวบรวม", "Personal data collected"),
    ("วัตถุประสงค์ของการเก็บรวบรวมข้อมูลส่วนบุคคลแต่ละประเภท", "Purpose of collecting each category"),
    ("ข้อมูลเกี่ยวกับผู้ควบคุมข้อมูลส่วนบุคคล", "Details of the data controller"),
    ("ระยะเวลาการเก็บรักษาข้อมูลส่วนบุคคล", "Retention period"),
    (
        "สิทธิและวิธีการเข้าถึงข้อมูลส่วนบุคคล รวมทั้งเงื่อนไขเกี่ยวกับบุคคลที่มีสิทธิเข้าถึง",
        "Rights and methods of access, and the conditions on who may access",
    ),
    ("การใช้หรือเปิดเผยตามมาตรา 27 วรรคสาม", "Use or disclosure under s27 paragraph 3"),
    ("การปฏิเสธคำขอหรือการคัดค้าน", "Requests refused and objections"),
    ("คำอธิบายเกี่ยวกับมาตรการรักษาความมั่นคงปลอดภัยตามมาตรา 37 (1)", "Security measures under s37(1)"),
)

SECURITY_MEASURES: tuple[tuple[str, str], ...] = (
    (
        "เข้ารหัสข้อมูลส่วนบุคคลทุกช่องด้วย AES-256-GCM ด้วยกุญแจแยกตามบุคคล ผู้ควบคุมข้อมูล และระยะเวลาการเก็บรักษา",
        "Every personal field encrypted with AES-256-GCM under a key per person, controller and retention class",
    ),
    (
        "กุญแจเก็บในฐานข้อมูลกุญแจแยกต่างหาก ทำลายกุญแจเพื่อลบข้อมูลรวมถึงในข้อมูลสำรอง",
        "Keys in a separate key store; destroying a key erases the data, in backups too",
    ),
    (
        "เจ้าหน้าที่เข้าถึงข้อมูลผ่านช่องทางเดียวตามหน้าที่ที่ได้รับมอบหมาย และบันทึกทุกครั้งก่อนแสดงข้อมูล",
        "Staff read data through one gateway, by assignment, each read logged before it is shown",
    ),
    (
        "บันทึกการตรวจสอบแบบเพิ่มได้อย่างเดียวและตรวจพบการแก้ไขได้ (ลูกโซ่ SHA-256 และจุดตรวจที่ลงนาม)",
        "Append-only, tamper-evident audit log (SHA-256 chain, signed checkpoints)",
    ),
    (
        "ผู้ประมวลผลข้อมูลได้รับเฉพาะข้อมูลตามสัญญา ผ่านลิงก์ที่ใช้ได้ครั้งเดียวและหมดอายุ",
        "Processors receive only their contract's fields, through single-use expiring links",
    ),
    (
        "บัญชีเจ้าหน้าที่ต้องยืนยันตัวตนหลายปัจจัย รหัสผ่านเก็บเป็นค่าแฮช Argon2",
        "Staff accounts need multi-factor authentication; passwords are kept as Argon2 hashes",
    ),
)

ACCESS_RIGHTS = (
    "เจ้าของข้อมูลเข้าสู่ระบบเพื่อดู ดาวน์โหลด ขอแก้ไขหรือลบข้อมูล และดูประวัติการเปิดเผยข้อมูลของตนได้ "
    "เจ้าหน้าที่เข้าถึงได้เฉพาะข้อมูลของบริการที่ได้รับมอบหมาย",
    "People log in to see, download, correct or erase their data and see its disclosures; "
    "staff reach only the data of the services they are assigned to",
)


@dataclass(frozen=True)
class Row:
    item: int
    text_th: str
    text_en: str

    def heading(self, language: str) -> str:
        thai, english = ITEMS[self.item - 1]
        return english if language == "en" else thai

    def text(self, language: str) -> str:
        return self.text_en if language == "en" else self.text_th


def build(agency: Agency) -> list[Row]:
    processing = processing_for(agency)
    rows: list[Row] = []
    # 1. what is collected, 2. why, 4. for how long: one line per category.
    by_category: dict[str, list] = defaultdict(list)
    for item in processing:
        by_category[item.category].append(item)
    for code in sorted(by_category):
        category = registry.category(code)
        items = by_category[code]
        stores_th = ", ".join(sorted({item.activity_th for item in items}))
        stores_en = ", ".join(sorted({item.activity_en for item in items}))
        rows.append(Row(1, f"{category.label_th} ({stores_th})", f"{category.label_en} ({stores_en})"))
        purposes = sorted({(item.purpose, item.legal_basis) for item in items})
        rows.append(
            Row(
                2,
                f"{category.label_th}: "
                + "; ".join(
                    f"{registry.purpose(p).label_th} — {registry.legal_basis(b).citation}" for p, b in purposes
                ),
                f"{category.label_en}: "
                + "; ".join(
                    f"{registry.purpose(p).label_en} — {registry.legal_basis(b).label_en}" for p, b in purposes
                ),
            )
        )
        kept = sorted({(retention_text(item, "th"), retention_text(item, "en"), item.retention) for item in items})
        for text_th, text_en, retention_code in kept:
            law = registry.retention_class(retention_code).law
            rows.append(Row(4, f"{category.label_th}: {text_th} {law}".strip(), f"{category.label_en}: {text_en}"))
    controller = agency.controller
    rows.append(
        Row(
            3,
            f"{controller.name_th} / {agency.name_th}; {agency.address_th}; "
            f"เจ้าหน้าที่คุ้มครองข้อมูลส่วนบุคคล {agency.dpo_email or controller.dpo_email} {agency.dpo_phone}".strip(),
            f"{controller.name_en} / {agency.name_en}; {agency.address_en}; "
            f"data protection officer {agency.dpo_email or controller.dpo_email} {agency.dpo_phone}".strip(),
        )
    )
    rows.append(Row(5, *ACCESS_RIGHTS))
    roles = StaffMembership.objects.filter(agency=agency).values("role").annotate(n=Count("id")).order_by("role")
    for role in roles:
        rows.append(Row(5, f"บทบาท {role['role']}: {role['n']} บัญชี", f"role {role['role']}: {role['n']} accounts"))
    rows += _disclosures(agency)
    rows += _refusals(agency)
    rows += [Row(8, thai, english) for thai, english in SECURITY_MEASURES]
    return sorted(rows, key=lambda row: row.item)


def _disclosures(agency: Agency) -> list[Row]:
    rows = []
    for recipient in Recipient.objects.filter(agency=agency).order_by("name_th"):
        expires = recipient.contract_expires.isoformat() if recipient.contract_expires else "-"
        fields = ", ".join(recipient.fields)
        purposes = ", ".join(recipient.purposes)
        rows.append(
            Row(
                6,
                f"ผู้รับ {recipient.name_th} ({recipient.get_kind_display()}) สัญญา {recipient.contract_reference or '-'} "
                f"หมดอายุ {expires}; วัตถุประสงค์ {purposes}; ข้อมูล {fields}",
                f"recipient {recipient.name_en} ({recipient.kind}) contract {recipient.contract_reference or '-'} "
                f"expires {expires}; purposes {purposes}; fields {fields}",
            )
        )
    made = Counter(
        Disclosure.objects.filter(agency=agency)
        .exclude(basis=Basis.CONSENT)
        .values_list("recipient__name_th", "recipient__name_en", "basis")
    )
    total = sum(made.values())
    rows.append(
        Row(6, f"การเปิดเผยโดยไม่อาศัยความยินยอมทั้งหมด: {total} ครั้ง", f"disclosures without consent in all: {total}")
    )
    for (name_th, name_en, basis), n in sorted(made.items()):
        rows.append(
            Row(
                6,
                f"เปิดเผยแก่ {name_th} โดยไม่อาศัยความยินยอม ({basis}): {n} ครั้ง",
                f"disclosed to {name_en} without consent ({basis}): {n}",
            )
        )
    return rows


def _refusals(agency: Agency) -> list[Row]:
    refused = (
        AuditEntry.objects.filter(agency_id=agency.pk, outcome=Outcome.DENIED, action__startswith="rights.")
        .values("action")
        .annotate(n=Count("id"))
        .order_by("action")
    )
    objections = AuditEntry.objects.filter(agency_id=agency.pk, action="consent.withdrawn").count()
    rows = [Row(7, f"{entry['action']}: {entry['n']}", f"{entry['action']}: {entry['n']}") for entry in refused]
    rows.append(Row(7, f"การถอนความยินยอม: {objections}", f"consents withdrawn: {objections}"))
    return rows


def as_csv(rows: list[Row], language: str) -> str:
    output = io.StringIO()
    writer = csv.writer(output)
    writer.writerow(["s39", "หัวข้อ" if language == "th" else "item", "รายการ" if language == "th" else "entry"])
    for row in rows:
        writer.writerow([row.item, row.heading(language), row.text(language)])
    # A BOM so that spreadsheet programs read the Thai as UTF-8.
    return "\ufeff" + output.getvalue()
