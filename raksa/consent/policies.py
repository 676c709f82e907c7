"""The privacy policy generated from the registry and the configuration (V1).

A policy's processing sections are never hand-written: `processing_for(agency)` lists what the
software does — every registry declaration, plus what other apps report through `register_source`
(a service's fields, a recipient) — and `generate_markdown` writes it out. Publishing freezes the
text and the list (`coverage`). Whatever the software does that the policy in force does not cover
is a pending change (`pending_changes`); apps that can add processing at run time ask `covers`
before they start it, so the service keeps working as published until a covering version is out.

Public API: `current_policy(agency)`, `current_platform_policy()`, `processing_for(agency)`, `reported(agency)`,
`covers(agency, processing)`, `covering(agency)`, `pending_changes(agency)`, `register_source(source)`, `Processing`,
`retention_text(processing, language)` (the period the retention engine enforces; the RoPA prints it too).
"""

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from functools import cache

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation

from raksa import registry
from raksa.consent.cookies import CATEGORY_LABELS, registered_cookies
from raksa.consent.models import PolicyStatus, PolicyVersion
from raksa.organisations.models import Agency
from raksa.retention import rules as retention_rules


@dataclass(frozen=True)
class Processing:
    """One thing the software does with personal data: a category, for a purpose, on a basis, kept so long."""

    activity: str  # a stable key: a model label, or an app's own key ("services.service:12")
    activity_th: str
    activity_en: str
    category: str
    purpose: str
    legal_basis: str
    retention: str
    recipients: tuple[str, ...] = ()
    # A period of its own within the retention class (a service's "kept N days after closing").
    retention_days: int | None = None

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.activity, self.category, self.purpose, self.legal_basis)

    @classmethod
    def from_json(cls, data: dict) -> "Processing":
        return cls(**{**data, "recipients": tuple(data.get("recipients", ()))})


type Source = Callable[[Agency | None], Iterable[Processing]]
_sources: list[Source] = []
# Models whose declarations are only the registry's outer bound: an agency's policy lists what a
# source reports it actually configured instead (the platform's policy still lists the bound).
_reported_models: set[str] = set()


def register_source(source: Source, *, reports_for: Iterable[str] = ()) -> Source:
    """Adds processing that an app configures at run time (services, recipients) to the policy of an agency.

    `reports_for` names the models (labels) whose processing the source reports per agency.
    """
    if source not in _sources:
        _sources.append(source)
    _reported_models.update(label.lower() for label in reports_for)
    return source


def unregister_source(source: Source) -> None:
    _sources.remove(source)


@cache
def _labels(model_label: str) -> tuple[str, str]:
    # A model's name in both languages: fixed for the life of the process, asked for on every page
    # that lists the purposes a person may consent to.
    from django.apps import apps

    meta = apps.get_model(model_label)._meta
    with translation.override("th"):
        thai = str(meta.verbose_name_plural)
    with translation.override("en"):
        english = str(meta.verbose_name_plural)
    return thai, english


def processing_for(agency: Agency | None) -> list[Processing]:
    """What the software does now, for the platform (None) or for one agency."""
    found: list[Processing] = []
    for declaration in registry.declarations():
        if agency is not None and declaration.label_lower in _reported_models:
            continue
        thai, english = _labels(declaration.model)
        found += [
            Processing(
                activity=declaration.label_lower,
                activity_th=thai,
                activity_en=english,
                category=declaration.category.code,
                purpose=purpose.code,
                legal_basis=declaration.legal_basis.code,
                retention=declaration.retention.code,
            )
            for purpose in declaration.purposes
        ]
    found += reported(agency)
    unique = {item.key: item for item in found}
    return sorted(unique.values(), key=lambda item: item.key)


def reported(agency: Agency | None) -> list[Processing]:
    """What the apps report they configured (a service's fields, a recipient), without the registry's part."""
    return [item for source in _sources for item in source(agency)]


def _days(item: Processing) -> int | None:
    return (
        item.retention_days if item.retention_days is not None else registry.retention_class(item.retention).period_days
    )


def _retention_covers(published: Processing, current: Processing) -> bool:
    old, new = _days(published), _days(current)
    if published.retention == current.retention and old == new:
        return True
    return old is not None and new is not None and new <= old


def _covered_by(item: Processing, covered: dict[tuple[str, str, str, str], Processing]) -> bool:
    published = covered.get(item.key)
    return (
        published is not None
        and _retention_covers(published, item)
        and set(item.recipients) <= set(published.recipients)
    )


def _coverage(coverage: list[dict] | None) -> dict[tuple[str, str, str, str], Processing]:
    items = [Processing.from_json(data) for data in coverage or []]
    return {item.key: item for item in items}


def _coverage_in_force(agency: Agency | None) -> dict[tuple[str, str, str, str], Processing]:
    # The list alone: the version's texts (the whole policy in two languages, as Markdown and HTML)
    # are not needed to answer what it covers, and reading them cost most of the answer.
    in_force = published_versions(agency).filter(effective_date__lte=timezone.localdate())
    return _coverage(in_force.values_list("coverage", flat=True).first())


def covers(agency: Agency | None, processing: Processing) -> bool:
    """Whether the policy in force for this agency (or the platform) covers this processing."""
    return covering(agency)(processing)


def covering(agency: Agency | None) -> Callable[[Processing], bool]:
    """`covers` for many questions about one agency: the policy in force is read once, not per question."""
    covered = _coverage_in_force(agency)
    return lambda processing: _covered_by(processing, covered)


def pending_changes(agency: Agency | None) -> list[Processing]:
    """What the software does, or is configured to do, that the policy in force does not cover yet."""
    covered = _coverage_in_force(agency)
    return [item for item in processing_for(agency) if not _covered_by(item, covered)]


def coverage_json(items: Iterable[Processing]) -> list[dict]:
    return [{**asdict(item), "recipients": list(item.recipients)} for item in items]


def published_versions(agency: Agency | None) -> QuerySet[PolicyVersion]:
    return PolicyVersion.objects.filter(agency=agency, status=PolicyStatus.PUBLISHED).order_by("-number")


def open_draft(agency: Agency | None) -> PolicyVersion | None:
    return PolicyVersion.objects.filter(agency=agency, status=PolicyStatus.DRAFT).first()


def new_draft(agency: Agency | None) -> PolicyVersion:
    """An unsaved draft that starts from the introduction of the latest published version."""
    latest = published_versions(agency).first()
    return PolicyVersion(
        agency=agency,
        introduction_th=latest.introduction_th if latest else "",
        introduction_en=latest.introduction_en if latest else "",
        effective_date=timezone.localdate(),
    )


def current_policy(agency: Agency | None) -> PolicyVersion | None:
    """The published version in force today (its effective date has come), or None."""
    return published_versions(agency).filter(effective_date__lte=timezone.localdate()).first()


def current_platform_policy() -> PolicyVersion | None:
    """The platform's policy in force: sign-up shows it and records its acceptance (raksa.consent.actions)."""
    return current_policy(None)


# Generating the text ---------------------------------------------------------------------------------
_HEADINGS = {
    "collect": (
        "ข้อมูลที่เราเก็บ วัตถุประสงค์ ฐานทางกฎหมาย และระยะเวลาเก็บรักษา",
        "What we collect, why, on what basis, for how long",
    ),
    "recipients": ("ผู้รับข้อมูลและผู้ประมวลผลข้อมูล", "Recipients and processors"),
    "refused": ("สิ่งที่เราไม่ทำ", "What we never do"),
    "cookies": ("คุกกี้", "Cookies"),
    "security": ("มาตรการรักษาความมั่นคงปลอดภัย", "Security measures"),
    "rights": ("สิทธิของท่านและวิธีใช้สิทธิ", "Your rights and how to use them"),
    "contact": ("การติดต่อเจ้าหน้าที่คุ้มครองข้อมูลส่วนบุคคล", "Contacting the data protection officer"),
    "changes": ("การเปลี่ยนแปลงนโยบายนี้", "Changes to this policy"),
}
_SECURITY = (
    (
        "ข้อมูลส่วนบุคคลทุกช่องถูกเข้ารหัส AES-256-GCM ด้วยกุญแจแยกรายบุคคล และกุญแจถูกเก็บในฐานข้อมูลต่างหาก",
        "Every personal field is encrypted with AES-256-GCM under a key per person, kept in a separate key store.",
    ),
    (
        "เจ้าหน้าที่เห็นเฉพาะข้อมูลที่จำเป็นต่องานของตน และทุกการเข้าถึงถูกบันทึกในบันทึกการตรวจสอบที่แก้ไขไม่ได้",
        "Officers see only what their work needs, and every access is written to a tamper-evident audit log.",
    ),
    (
        "รหัสผ่านถูกเก็บเป็นค่าแฮช Argon2id หน่วยงานจึงไม่ทราบรหัสผ่านของท่าน",
        "Passwords are stored as Argon2id hashes: the agency never knows your password.",
    ),
    (
        "ข้อมูลจราจรทางคอมพิวเตอร์เก็บไว้ 90 วันตามกฎหมาย แล้วลบพร้อมกุญแจรายวัน",
        "Computer traffic data is kept for the 90 days the law requires, then erased with its daily key.",
    ),
)
_RIGHTS = (
    ("ขอทราบและขอรับสำเนาข้อมูลส่วนบุคคลของท่าน", "to know, and receive a copy of, the personal data we hold about you"),
    ("ขอแก้ไขข้อมูลที่ไม่ถูกต้องให้ถูกต้องและเป็นปัจจุบัน", "to have inaccurate data corrected"),
    ("ขอให้ลบหรือทำลายข้อมูล เมื่อไม่มีเหตุให้เก็บต่อไป", "to have data erased when there is no reason left to keep it"),
    ("ถอนความยินยอมได้ทุกเมื่อ ง่ายเท่ากับการให้ความยินยอม", "to withdraw consent at any time, as easily as you gave it"),
    ("คัดค้านหรือขอให้ระงับการใช้ข้อมูล", "to object to, or restrict, the use of your data"),
    ("ร้องเรียนต่อสำนักงานคณะกรรมการคุ้มครองข้อมูลส่วนบุคคล", "to complain to the Personal Data Protection Committee"),
)


def _backups_kept(language: str) -> str:
    days = settings.RAKSA_KEYSTORE_BACKUP_DAYS
    return _pick(
        (
            f"เมื่อข้อมูลของท่านถูกลบ กุญแจของข้อมูลนั้นจะถูกทำลาย สำเนาสำรองของที่เก็บกุญแจเก็บไว้ {days} วัน "
            f"เมื่อพ้น {days} วันแล้วจะไม่มีผู้ใดกู้คืนข้อมูลนั้นจากสำเนาสำรองใดได้อีก",
            f"When your data is erased, its key is destroyed. Backups of the key store are kept {days} days: "
            f"after {days} days nobody can restore that data from any backup.",
        ),
        language,
    )


def _pick(pair: tuple[str, str], language: str) -> str:
    return pair[1] if language == "en" else pair[0]


def _label(
    item: registry.Category | registry.Purpose | registry.LegalBasis | registry.RetentionClass, language: str
) -> str:
    return item.label_en if language == "en" else item.label_th


def retention_text(item: Processing, language: str) -> str:
    """How long this processing keeps its data, in one language, from the rule that enforces it: the
    service's own days, else the retention engine's rule for the store, else the registry's class."""
    retention = registry.retention_class(item.retention)
    label = _label(retention, language)
    event = retention.starts_when_en if language == "en" else retention.starts_when_th
    enforced = retention_rules.describe(item.activity, language) if item.retention_days is None else None
    days = _days(item)
    if enforced is not None:
        text = enforced
    elif days is None:
        text = f"until {event}" if language == "en" else f"จนกว่า{event}"
    else:
        text = f"{days} days after {event}" if language == "en" else f"{days} วันนับจาก{event}"
    return f"{label} ({text})"


def _url(name: str, language: str, **kwargs: object) -> str:
    with translation.override(language):
        return reverse(name, kwargs=kwargs or None)


def generate_markdown(agency: Agency | None, introduction: str, language: str, items: list[Processing]) -> str:
    """The full text of a policy in one language: the introduction, then the generated sections."""
    heading = {key: _pick(pair, language) for key, pair in _HEADINGS.items()}
    lines: list[str] = [introduction.strip(), "", f"## {heading['collect']}", ""]
    activities: dict[str, list[Processing]] = {}
    for item in items:
        activities.setdefault(item.activity, []).append(item)
    for grouped in activities.values():
        first = grouped[0]
        lines += [f"### {first.activity_en if language == 'en' else first.activity_th}", ""]
        for item in grouped:
            category = _label(registry.category(item.category), language)
            purpose = _label(registry.purpose(item.purpose), language)
            basis = registry.legal_basis(item.legal_basis)
            kept = retention_text(item, language)
            if language == "en":
                lines.append(
                    f"- **{category}** — for {purpose}; legal basis: {_label(basis, language)} ({basis.citation}); "
                    f"kept: {kept}"
                )
            else:
                lines.append(
                    f"- **{category}** — เพื่อ{purpose} ฐานทางกฎหมาย: {_label(basis, language)} ({basis.citation}) "
                    f"ระยะเวลาเก็บ: {kept}"
                )
        lines.append("")

    recipients = sorted({recipient for item in items for recipient in item.recipients})
    lines += [f"## {heading['recipients']}", ""]
    if recipients:
        lines += [f"- {recipient}" for recipient in recipients]
    lines += [
        _pick(
            (
                "เราไม่เปิดเผยข้อมูลส่วนบุคคลแก่บุคคลอื่น เว้นแต่ (1) ได้รับความยินยอมจากท่าน (2) เพื่อทำธุรกรรมที่ท่านขอ "
                "หรือ (3) กฎหมายหรือคำสั่งของหน่วยงานของรัฐที่มีอำนาจกำหนด ผู้รับจ้างประมวลผลต้องรักษาความลับ "
                "และใช้ข้อมูลได้เฉพาะงานที่ว่าจ้างเท่านั้น",
                "We disclose personal data to no one else except (1) with your consent, (2) to complete a "
                "transaction you asked for, or (3) where a law or an order of a competent authority requires it. "
                "Contractors who process data for us must keep it confidential and use it only for the contracted job.",
            ),
            language,
        ),
        "",
        f"## {heading['refused']}",
        "",
    ]
    never = _pick(("เราไม่ใช้หรือเปิดเผยข้อมูลส่วนบุคคลเพื่อ", "We never use or disclose personal data for "), language)
    lines += [f"- {never}{_label(refused, language)}" for refused in registry.purposes() if refused.refused]
    lines += ["", f"## {heading['cookies']}", ""]
    for cookie in registered_cookies():
        category = _pick(CATEGORY_LABELS[cookie.category], language)
        purpose = cookie.purpose_en if language == "en" else cookie.purpose_th
        if cookie.max_age_seconds is None:
            lifetime = _pick(("จนปิดเบราว์เซอร์", "until the browser closes"), language)
        else:
            days = max(1, cookie.max_age_seconds // 86400)
            lifetime = f"{days} days" if language == "en" else f"{days} วัน"
        lines.append(f"- `{cookie.name}` — {category}: {purpose} ({lifetime})")
    lines += [
        "",
        _pick(
            (
                f"ท่านเลือกรับหรือปฏิเสธคุกกี้ที่ไม่จำเป็นได้ที่ [การตั้งค่าคุกกี้]({_url('consent:cookies', language)})",
                f"You can accept or refuse the cookies that are not necessary in "
                f"[cookie settings]({_url('consent:cookies', language)}).",
            ),
            language,
        ),
        "",
        f"## {heading['security']}",
        "",
    ]
    lines += [f"- {_pick(measure, language)}" for measure in _SECURITY]
    lines.append(f"- {_backups_kept(language)}")
    lines += ["", f"## {heading['rights']}", ""]
    lines += [f"- {_pick(right, language)}" for right in _RIGHTS]
    contact_url = _url("core:contact", language)
    ask_url = _url("consent:ask", language) + (f"?agency={agency.slug}" if agency else "")
    lines += [
        "",
        _pick(
            (
                f"ท่านใช้สิทธิได้โดย[ส่งคำขอถึงเจ้าหน้าที่คุ้มครองข้อมูลส่วนบุคคล]({ask_url})",
                f"To use a right, [write to the data protection officer]({ask_url}).",
            ),
            language,
        ),
        "",
        f"## {heading['contact']}",
        "",
    ]
    if agency is not None:
        name = agency.name_en if language == "en" else agency.name_th
        address = agency.address_en if language == "en" and agency.address_en else agency.address_th
        lines.append(f"- {name}")
        if address:
            lines.append(f"- {address}")
        if agency.dpo_phone or agency.phone:
            lines.append(f"- {_pick(('โทรศัพท์', 'Phone'), language)}: {agency.dpo_phone or agency.phone}")
    lines += [
        f"- [{_pick(('แบบฟอร์มคำถาม ข้อเสนอแนะ และข้อร้องเรียน', 'Questions, suggestions and complaints form'), language)}]"
        f"({ask_url})",
        f"- [{_pick(('ช่องทางติดต่อทั้งหมด', 'All contact details'), language)}]({contact_url})",
        "",
        f"## {heading['changes']}",
        "",
        _pick(
            (
                "นโยบายนี้อาจเปลี่ยนแปลงได้ ฉบับที่ใช้อยู่จะเผยแพร่ที่หน้านี้เสมอ ฉบับก่อนหน้ายังอ่านและเปรียบเทียบได้ "
                "และเราจะแสดงสรุปการเปลี่ยนแปลงแก่ผู้ที่เคยยอมรับฉบับก่อนในการเข้าใช้ครั้งถัดไป "
                "ขอแนะนำให้ท่านอ่านนโยบายนี้ทุกครั้งที่ใช้บริการ",
                "This policy may change. The one in force is always published on this page, earlier versions stay "
                "readable and comparable, and people who accepted an earlier version see a summary of the changes "
                "at their next visit. We encourage you to read it each time you use our services.",
            ),
            language,
        ),
        "",
    ]
    return "\n".join(lines)
