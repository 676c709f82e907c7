"""The purposes a person can consent to (PDPA s19), each a separate choice."""

from raksa import registry
from raksa.consent import policies
from raksa.organisations.models import Agency
from raksa.registry import NEWS_AND_PR, OPINION_SURVEYS, Purpose

PROFILE_PREFILL = registry.register_purpose(
    Purpose(
        "profile_prefill",
        "กรอกแบบฟอร์มบริการล่วงหน้าจากข้อมูลในบัญชีของท่าน",
        "pre-filling service forms from your profile",
        promises=("U1", "C1"),
    )
)
# Asked of everyone; services add their own consent-based purposes through the registry.
STANDING = (NEWS_AND_PR, OPINION_SURVEYS, PROFILE_PREFILL)

DESCRIPTIONS = {
    NEWS_AND_PR.code: (
        "รับข่าวสารและการประชาสัมพันธ์ของหน่วยงานทางอีเมล ยกเลิกได้ทุกเมื่อ",
        "Receive the agency's news and public relations by e-mail. Stop at any time.",
    ),
    OPINION_SURVEYS.code: (
        "รับแบบสำรวจความคิดเห็นต่อการดำเนินงานของหน่วยงานทางอีเมล",
        "Receive opinion surveys about the agency's own work by e-mail.",
    ),
    PROFILE_PREFILL.code: (
        "ให้ระบบกรอกชื่อ ที่อยู่ และช่องทางติดต่อในแบบฟอร์มบริการให้ล่วงหน้า ท่านยังแก้ไขก่อนส่งได้เสมอ",
        "Let the site pre-fill your name, address and contact details in service forms; you can still edit "
        "them before sending.",
    ),
}
# Purposes whose mail goes to an address given with the consent (stored through the vault).
BY_EMAIL = frozenset({NEWS_AND_PR.code, OPINION_SURVEYS.code})


def consent_purposes(agency: Agency | None = None) -> list[Purpose]:
    """Every purpose processed on consent: the standing ones, the registry's and the configured ones."""
    found: dict[str, Purpose] = {purpose.code: purpose for purpose in STANDING}
    for declaration in registry.declarations():
        if declaration.legal_basis.is_consent:
            found.update({purpose.code: purpose for purpose in declaration.purposes})
    # The registry's part of the agency's processing is the declarations above; the rest is reported.
    for item in policies.reported(agency):
        if registry.legal_basis(item.legal_basis).is_consent:
            found.setdefault(item.purpose, registry.purpose(item.purpose))
    return [purpose for purpose in found.values() if not purpose.refused]


def description(purpose: Purpose, language: str) -> str:
    thai, english = DESCRIPTIONS.get(purpose.code, (purpose.label_th, purpose.label_en))
    return english if language == "en" else thai
