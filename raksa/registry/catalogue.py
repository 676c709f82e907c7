"""What Raksa may know about a person, why, on what legal ground, and for how long.

These are code, not database rows: the published policy, the forms' notices, the export, erasure,
retention and the RoPA are all generated from them, so a change is a reviewed change. Services may
add purposes at run time with `register_purpose` (see raksa.registry.declarations).

Labels are given in Thai and English side by side (not through gettext) because the policy and the
RoPA print both languages at once and must not depend on a translation catalogue being compiled.
"""

from dataclasses import dataclass

from django.utils.translation import get_language


@dataclass(frozen=True)
class _Labelled:
    code: str
    label_th: str
    label_en: str

    @property
    def label(self) -> str:
        """The label in the active language (Thai unless English is active)."""
        return self.label_en if get_language() == "en" else self.label_th

    def __str__(self) -> str:
        return self.code


@dataclass(frozen=True)
class RetentionClass(_Labelled):
    """How long data is kept. Each class has its own data keys, so it can be shredded on its own."""

    # Days after `starts_when` at which the data is erased; None: until the event itself.
    period_days: int | None = None
    starts_when_th: str = ""
    starts_when_en: str = ""
    law: str = ""


@dataclass(frozen=True)
class Category(_Labelled):
    """A kind of personal data. `sensitive` marks PDPA s26 data, which needs explicit consent."""

    sensitive: bool = False
    default_retention: RetentionClass | None = None
    # Collected by the site itself on every visit (C2), not typed in by the person.
    technical: bool = False
    # Kind of blind index that exact-match look-ups use (raksa.vault.indexes), if any.
    index: str | None = None


@dataclass(frozen=True)
class Purpose(_Labelled):
    """Why data is processed. `promises` are the IDs in PROMISES.md the purpose comes from."""

    promises: tuple[str, ...] = ()
    # A refused purpose exists so that asking for it can be refused by name (D2).
    refused: bool = False


@dataclass(frozen=True)
class LegalBasis(_Labelled):
    citation: str = ""
    # Consent-based processing ends when the person withdraws consent.
    is_consent: bool = False


# Retention classes ---------------------------------------------------------------------------------
ACCOUNT = RetentionClass(
    "account",
    "ตลอดอายุบัญชีผู้ใช้",
    "while the account exists",
    starts_when_th="ปิดบัญชีผู้ใช้",
    starts_when_en="the account is closed",
)
SERVICE_RECORD = RetentionClass(
    "service_record",
    "ระเบียนการรับบริการ",
    "service records",
    period_days=2 * 365,
    starts_when_th="การให้บริการเสร็จสิ้น",
    starts_when_en="the service is completed",
)
INQUIRY = RetentionClass(
    "inquiry",
    "คำถามและข้อร้องเรียน",
    "questions and complaints",
    period_days=365,
    starts_when_th="ได้ตอบคำถามแล้ว",
    starts_when_en="the question is answered",
)
SUBSCRIPTION = RetentionClass(
    "subscription",
    "การรับข่าวสาร",
    "news subscriptions",
    starts_when_th="ยกเลิกการรับข่าวสาร",
    starts_when_en="the person unsubscribes",
)
SURVEY = RetentionClass(
    "survey",
    "แบบสำรวจความคิดเห็น",
    "opinion surveys",
    period_days=365,
    starts_when_th="ปิดแบบสำรวจ",
    starts_when_en="the survey closes",
)
CONSENT_EVIDENCE = RetentionClass(
    "consent_evidence",
    "หลักฐานการให้ความยินยอม",
    "evidence of consent",
    period_days=10 * 365,
    starts_when_th="ถอนความยินยอมหรือสิ้นสุดการประมวลผล",
    starts_when_en="consent is withdrawn or the processing ends",
    law="ประมวลกฎหมายแพ่งและพาณิชย์ มาตรา 193/30 (อายุความ 10 ปี)",
)
CASE_FILE = RetentionClass(
    "case_file",
    "เอกสารราชการ",
    "official case files",
    period_days=10 * 365,
    starts_when_th="ปิดเรื่อง",
    starts_when_en="the case is closed",
    law="พระราชบัญญัติข้อมูลข่าวสารของราชการ พ.ศ. 2540; ระเบียบสำนักนายกรัฐมนตรีว่าด้วยงานสารบรรณ",
)
ACCESS_LOG = RetentionClass(
    "access_log",
    "ข้อมูลจราจรทางคอมพิวเตอร์",
    "computer traffic data",
    period_days=90,
    starts_when_th="วันที่เข้าใช้งาน",
    starts_when_en="the day of the visit",
    law="พระราชบัญญัติว่าด้วยการกระทำความผิดเกี่ยวกับคอมพิวเตอร์ พ.ศ. 2550 มาตรา 26",
)
# The address a closed account's last message goes to ("your data has been erased"): sealed under a key
# of its own at erasure, destroyed once the message is sent, or after this period if it never could be.
ERASURE_NOTICE = RetentionClass(
    "erasure_notice",
    "ที่อยู่อีเมลสำหรับแจ้งว่าลบข้อมูลแล้ว",
    "the address to confirm an erasure",
    period_days=30,
    starts_when_th="ลบข้อมูล (หรือเมื่อส่งข้อความแจ้งแล้ว)",
    starts_when_en="the data is erased (or as soon as the message is sent)",
)
RETENTION_CLASSES: tuple[RetentionClass, ...] = (
    ACCOUNT,
    SERVICE_RECORD,
    INQUIRY,
    SUBSCRIPTION,
    SURVEY,
    CONSENT_EVIDENCE,
    CASE_FILE,
    ACCESS_LOG,
    ERASURE_NOTICE,
)

# Categories (C2, C3; s26 categories for services that need them) ------------------------------------
NAME = Category("name", "ชื่อ-นามสกุล", "name", default_retention=ACCOUNT)
GENDER = Category("gender", "เพศ", "gender", default_retention=ACCOUNT)
BIRTH_DATE = Category("birth_date", "อายุหรือวันเกิด", "age or date of birth", default_retention=ACCOUNT)
ADDRESS = Category("address", "ที่อยู่", "address", default_retention=ACCOUNT)
WORKPLACE = Category("workplace", "สถานที่ทำงาน", "workplace", default_retention=ACCOUNT)
PHONE = Category("phone", "หมายเลขโทรศัพท์", "phone number", default_retention=ACCOUNT, index="phone")
EMAIL = Category("email", "อีเมล", "e-mail address", default_retention=ACCOUNT, index="email")
NATIONAL_ID = Category(
    "national_id", "เลขประจำตัวประชาชน", "national ID number", default_retention=ACCOUNT, index="national_id"
)
INTERESTS = Category("interests", "ความสนใจ", "interests", default_retention=ACCOUNT)
USER_ID = Category("user_id", "ชื่อผู้ใช้", "user ID", default_retention=ACCOUNT)
MESSAGE = Category("message", "ข้อความที่ส่งถึงหน่วยงาน", "messages sent to the agency", default_retention=INQUIRY)
IP_ADDRESS = Category("ip_address", "หมายเลขไอพี", "IP address", default_retention=ACCESS_LOG, technical=True)
BROWSER = Category("browser", "ชนิดของเบราว์เซอร์", "browser type", default_retention=ACCESS_LOG, technical=True)
DOMAIN_NAME = Category("domain_name", "ชื่อโดเมน", "domain name", default_retention=ACCESS_LOG, technical=True)
PAGES_VISITED = Category("pages_visited", "หน้าเว็บที่เข้าชม", "pages visited", default_retention=ACCESS_LOG, technical=True)
ACCESS_TIME = Category("access_time", "เวลาที่เข้าชม", "access times", default_retention=ACCESS_LOG, technical=True)
REFERRER = Category("referrer", "เว็บไซต์ที่อ้างอิง", "referring site", default_retention=ACCESS_LOG, technical=True)
HEALTH = Category("health", "ข้อมูลสุขภาพ", "health data", sensitive=True, default_retention=SERVICE_RECORD)
DISABILITY = Category("disability", "ข้อมูลความพิการ", "disability", sensitive=True, default_retention=SERVICE_RECORD)
RELIGION = Category(
    "religion", "ศาสนาหรือความเชื่อ", "religion or belief", sensitive=True, default_retention=SERVICE_RECORD
)
CRIMINAL_RECORD = Category(
    "criminal_record", "ประวัติอาชญากรรม", "criminal record", sensitive=True, default_retention=CASE_FILE
)
BIOMETRIC = Category("biometric", "ข้อมูลชีวภาพ", "biometric data", sensitive=True, default_retention=SERVICE_RECORD)
CATEGORIES: tuple[Category, ...] = (
    NAME,
    GENDER,
    BIRTH_DATE,
    ADDRESS,
    WORKPLACE,
    PHONE,
    EMAIL,
    NATIONAL_ID,
    INTERESTS,
    USER_ID,
    MESSAGE,
    IP_ADDRESS,
    BROWSER,
    DOMAIN_NAME,
    PAGES_VISITED,
    ACCESS_TIME,
    REFERRER,
    HEALTH,
    DISABILITY,
    RELIGION,
    CRIMINAL_RECORD,
    BIOMETRIC,
)

# Purposes --------------------------------------------------------------------------------------------
USAGE_STATISTICS = Purpose(
    "usage_statistics",
    "วิเคราะห์สถิติการใช้งานเพื่อปรับปรุงบริการ",
    "usage statistics to improve the services",
    promises=("P1",),
)
INCIDENT_INVESTIGATION = Purpose(
    "incident_investigation",
    "ตรวจสอบย้อนหลังเมื่อเกิดปัญหาการใช้งาน",
    "investigating a problem with the service",
    promises=("P2",),
)
SERVICE_DELIVERY = Purpose(
    "service_delivery", "ให้บริการที่ท่านขอรับ", "delivering the service the person asked for", promises=("P3", "U1")
)
ACCOUNT_OPERATION = Purpose(
    "account_operation",
    "ดูแลบัญชีผู้ใช้ การเข้าสู่ระบบ และการกู้คืนบัญชี",
    "operating the account: log-in and recovery",
    promises=("A1", "A3"),
)
CONTACT = Purpose("contact", "ติดต่อท่าน", "contacting the person", promises=("U1",))
NEWS_AND_PR = Purpose("news_and_pr", "ส่งข่าวสารและประชาสัมพันธ์", "news and public relations", promises=("U1",))
OPINION_SURVEYS = Purpose(
    "opinion_surveys",
    "สำรวจความคิดเห็นต่อการดำเนินงานของหน่วยงาน",
    "opinion surveys about the agency's own work",
    promises=("U1",),
)
RIGHTS_REQUESTS = Purpose(
    "rights_requests",
    "ดำเนินการตามคำขอใช้สิทธิของเจ้าของข้อมูล",
    "answering the person's requests about their data",
    promises=("R1", "R2", "R3"),
)
MARKETING = Purpose(
    "marketing",
    "การตลาด (ไม่อนุญาต)",
    "marketing (never allowed)",
    promises=("D2",),
    refused=True,
)
PURPOSES: tuple[Purpose, ...] = (
    USAGE_STATISTICS,
    INCIDENT_INVESTIGATION,
    SERVICE_DELIVERY,
    ACCOUNT_OPERATION,
    CONTACT,
    NEWS_AND_PR,
    OPINION_SURVEYS,
    RIGHTS_REQUESTS,
    MARKETING,
)

# Legal bases -----------------------------------------------------------------------------------------
_PDPA = "พระราชบัญญัติคุ้มครองข้อมูลส่วนบุคคล พ.ศ. 2562"
ARCHIVES_RESEARCH_STATISTICS = LegalBasis(
    "pdpa_24_1",
    "การจัดทำเอกสารประวัติศาสตร์ จดหมายเหตุ การศึกษาวิจัยหรือสถิติ",
    "archives, research or statistics in the public interest",
    citation=f"{_PDPA} มาตรา 24(1)",
)
VITAL_INTEREST = LegalBasis(
    "pdpa_24_2",
    "ป้องกันหรือระงับอันตรายต่อชีวิต ร่างกาย หรือสุขภาพ",
    "preventing danger to life, body or health",
    citation=f"{_PDPA} มาตรา 24(2)",
)
CONTRACT = LegalBasis(
    "pdpa_24_3",
    "การปฏิบัติตามสัญญาหรือคำขอของเจ้าของข้อมูล",
    "performing a contract with, or a request of, the person",
    citation=f"{_PDPA} มาตรา 24(3)",
)
PUBLIC_TASK = LegalBasis(
    "pdpa_24_4",
    "การปฏิบัติหน้าที่เพื่อประโยชน์สาธารณะหรือการใช้อำนาจรัฐ",
    "a task in the public interest or the exercise of official authority",
    citation=f"{_PDPA} มาตรา 24(4)",
)
LEGITIMATE_INTEREST = LegalBasis(
    "pdpa_24_5",
    "ประโยชน์โดยชอบด้วยกฎหมาย",
    "legitimate interests",
    citation=f"{_PDPA} มาตรา 24(5)",
)
LEGAL_OBLIGATION = LegalBasis(
    "pdpa_24_6",
    "การปฏิบัติตามกฎหมาย",
    "compliance with a law",
    citation=f"{_PDPA} มาตรา 24(6)",
)
CONSENT = LegalBasis("consent", "ความยินยอม", "consent", citation=f"{_PDPA} มาตรา 19", is_consent=True)
EXPLICIT_CONSENT = LegalBasis(
    "explicit_consent",
    "ความยินยอมโดยชัดแจ้ง (ข้อมูลอ่อนไหว)",
    "explicit consent (sensitive data)",
    citation=f"{_PDPA} มาตรา 26",
    is_consent=True,
)
OFFICIAL_INFORMATION_ACT = LegalBasis(
    "official_information_act",
    "หน้าที่ตามพระราชบัญญัติข้อมูลข่าวสารของราชการ",
    "duties under the Official Information Act",
    citation="พระราชบัญญัติข้อมูลข่าวสารของราชการ พ.ศ. 2540",
)
LEGAL_BASES: tuple[LegalBasis, ...] = (
    ARCHIVES_RESEARCH_STATISTICS,
    VITAL_INTEREST,
    CONTRACT,
    PUBLIC_TASK,
    LEGITIMATE_INTEREST,
    LEGAL_OBLIGATION,
    CONSENT,
    EXPLICIT_CONSENT,
    OFFICIAL_INFORMATION_ACT,
)
# Bases that PDPA s26 accepts for sensitive data without explicit consent (vital interest, law).
SENSITIVE_BASES = frozenset({EXPLICIT_CONSENT, VITAL_INTEREST, LEGAL_OBLIGATION})
