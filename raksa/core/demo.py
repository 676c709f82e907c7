"""Demo data in the spirit of the seeds: a ministry and the Bangkok Metropolitan Administration."""

import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from raksa.accounts.models import User
from raksa.consent import actions as consent
from raksa.consent import policies
from raksa.organisations import actions as organisations
from raksa.organisations.models import Agency, StaffMembership, StaffRole
from raksa.services import actions as services
from raksa.services.models import Service
from raksa.subjects.models import Subject

MINISTRY: dict[str, Any] = {
    "slug": "most",
    "name_th": "กระทรวงวิทยาศาสตร์และเทคโนโลยี",
    "name_en": "Ministry of Science and Technology",
    "abbreviation_th": "วท.",
    "address_th": "75/47 ถนนพระรามที่ 6 แขวงทุ่งพญาไท เขตราชเทวี กรุงเทพฯ 10400",
    "address_en": "75/47 Rama VI Road, Thung Phaya Thai, Ratchathewi, Bangkok 10400",
    "phone": "0 2333 3700",
    "fax": "0 2333 3833",
    "call_centre": "1313",
    "website": "https://www.most.go.th/",
    "contact_email": "contact@most.example",
    "dpo_email": "dpo@most.example",
    "dpo_phone": "0 2333 3700",
    "is_platform_operator": True,
}
MINISTRY_OFFICE: dict[str, Any] = {
    "slug": "most-ops",
    "name_th": "สำนักงานปลัดกระทรวงวิทยาศาสตร์และเทคโนโลยี",
    "name_en": "Office of the Permanent Secretary, Ministry of Science and Technology",
    "address_th": MINISTRY["address_th"],
    "address_en": MINISTRY["address_en"],
    "phone": "0 2333 3700",
    "fax": "0 2333 3833",
    "call_centre": "1313",
    "website": "https://www.most.go.th/",
    "contact_email": "saraban@most.example",
    "dpo_email": "dpo@most.example",
}
BMA: dict[str, Any] = {
    "slug": "bma",
    "name_th": "กรุงเทพมหานคร",
    "name_en": "Bangkok Metropolitan Administration",
    "abbreviation_th": "กทม.",
    "address_th": "173 ถนนดินสอ แขวงเสาชิงช้า เขตพระนคร กรุงเทพมหานคร 10200",
    "address_en": "173 Din So Road, Sao Chingcha, Phra Nakhon, Bangkok 10200",
    "phone": "0 2221 2141",
    "call_centre": "1555",
    "website": "https://www.bangkok.go.th/",
    "contact_email": "contact@bma.example",
    "dpo_email": "dpo@bma.example",
}
MINBURI: dict[str, Any] = {
    "slug": "minburi",
    "name_th": "สำนักงานเขตมีนบุรี",
    "name_en": "Minburi District Office",
    "address_th": "333 ถนนสีหบุรานุกิจ แขวงมีนบุรี เขตมีนบุรี กรุงเทพมหานคร 10510",
    "address_en": "333 Si Hah Buranukit Road, Min Buri, Min Buri, Bangkok 10510",
    "phone": "0 2540 7214",
    "fax": "0 2540 7267",
    "website": "https://www.bangkok.go.th/minburi/",
    "contact_email": "minburi@bma.example",
    "dpo_email": "dpo.minburi@bma.example",
}


def load_organisations() -> list[Agency]:
    ministry = organisations.upsert_controller(**MINISTRY)
    bma = organisations.upsert_controller(**BMA)
    return [
        organisations.upsert_agency(controller=ministry, **MINISTRY_OFFICE),
        organisations.upsert_agency(controller=bma, **MINBURI),
    ]


# Demo accounts: (user ID, password, agency slug or None for a citizen, role, description).
ACCOUNTS = [
    ("somchai", "raksa-demo-citizen", None, "", "citizen"),
    ("officer.minburi", "raksa-demo-officer", "minburi", StaffRole.OFFICER, "officer, Minburi District Office"),
    ("dpo.minburi", "raksa-demo-dpo", "minburi", StaffRole.DPO, "data protection officer, Minburi District Office"),
    ("admin.most", "raksa-demo-admin", "most-ops", StaffRole.ADMINISTRATOR, "administrator, Ministry office"),
    # The platform operator's DPO answers data-subject requests (staff/rights/).
    ("dpo.most", "raksa-demo-dpo", "most-ops", StaffRole.DPO, "data protection officer, Ministry office"),
]


def load_accounts() -> None:
    for username, password, agency_slug, role, _description in ACCOUNTS:
        if User.objects.filter(username=username).exists():
            continue
        with transaction.atomic():
            user = User.objects.create_user(
                username, password, subject=Subject.objects.create(), is_staff=agency_slug is not None
            )
            if agency_slug:
                StaffMembership.objects.create(user=user, agency=Agency.objects.get(slug=agency_slug), role=role)


# Demo services of the Minburi District Office: an e-service request and an activity with seats.
CERTIFICATE: dict[str, Any] = {
    "slug": "minburi-residence-certificate",
    "kind": "service",
    "title_th": "ขอหนังสือรับรองการอยู่อาศัย",
    "title_en": "Certificate of residence",
    "description_th": "ยื่นคำขอหนังสือรับรองว่าท่านอาศัยอยู่ในเขตมีนบุรี เจ้าหน้าที่จะติดต่อกลับเมื่อเอกสารพร้อมรับ",
    "description_en": (
        "Ask for a letter certifying that you live in Min Buri district. An officer contacts you when it is ready."
    ),
}
CERTIFICATE_FIELDS = [
    ("name", "service_delivery", True),
    ("national_id", "service_delivery", True),
    ("address", "service_delivery", True),
    ("phone", "contact", True),
    ("email", "contact", False),
    ("message", "service_delivery", False),
]
FIRST_AID: dict[str, Any] = {
    "slug": "minburi-first-aid-workshop",
    "kind": "activity",
    "title_th": "อบรมการปฐมพยาบาลเบื้องต้นและการช่วยฟื้นคืนชีพ (CPR)",
    "title_en": "First aid and CPR workshop",
    "description_th": "อบรมภาคปฏิบัติ 3 ชั่วโมง โดยเจ้าหน้าที่ศูนย์บริการสาธารณสุข ไม่มีค่าใช้จ่าย",
    "description_en": "A free three-hour hands-on workshop by the public health centre staff.",
    "place_th": "ห้องประชุมชั้น 2 สำนักงานเขตมีนบุรี",
    "place_en": "Meeting room, 2nd floor, Minburi District Office",
    "capacity": 30,
}
FIRST_AID_FIELDS = [("name", "service_delivery", True), ("email", "contact", True), ("phone", "contact", False)]


def load_services() -> None:
    minburi = Agency.objects.get(slug=MINBURI["slug"])
    officer = StaffMembership.objects.get(user__username="officer.minburi")
    starts = timezone.localtime().replace(hour=9, minute=0, second=0, microsecond=0) + datetime.timedelta(days=14)
    for details, fields in ((CERTIFICATE, CERTIFICATE_FIELDS), (FIRST_AID, FIRST_AID_FIELDS)):
        if Service.objects.filter(slug=details["slug"]).exists():
            continue
        schedule = {"starts_at": starts, "ends_at": starts + datetime.timedelta(hours=3)}
        extra = schedule if details["kind"] == "activity" else {}
        service = services.create_service(agency=minburi, actor=None, **{**details, **extra})
        for position, (category, purpose, required) in enumerate(fields):
            services.declare_field(
                service=service,
                category=category,
                purpose=purpose,
                legal_basis="pdpa_24_4",
                required=required,
                position=position,
                actor=None,
            )
        services.assign_officer(service=service, staff=officer, actor=None)


def account_lines() -> list[str]:
    lines = ["Demo accounts (user ID / password):"]
    lines += [f"  {username:<17} {password:<20} {description}" for username, password, _a, _r, description in ACCOUNTS]
    return lines


# Privacy policies in the seeds' own words; the processing sections are generated at publication.
PLATFORM_POLICY = {
    "introduction_th": (
        "# นโยบายการคุ้มครองข้อมูลส่วนบุคคล ของ วท. (Privacy Policy)\n\n"
        "กระทรวงวิทยาศาสตร์และเทคโนโลยี (วท.) ตระหนักถึงความปลอดภัยของข้อมูลส่วนบุคคล "
        "และการรักษาข้อมูลส่วนบุคคลของผู้ใช้บริการผ่านเว็บไซต์และแอปพลิเคชัน\n\n"
        "## วัตถุประสงค์ในการเก็บรวบรวม\n\n"
        "วท. เก็บข้อมูลผู้ใช้บริการเพื่อวิเคราะห์และติดตามการใช้งาน สำรวจความนิยมในการใช้บริการ "
        "เพื่อนำสถิติไปใช้ในการปรับปรุงคุณภาพการให้บริการ และเพื่อตรวจสอบย้อนหลังในกรณีที่เกิดปัญหาการใช้งาน\n\n"
        "## การเก็บรวบรวมข้อมูลส่วนบุคคล\n\n"
        "1. วท. เก็บรวบรวมข้อมูลส่วนบุคคลเท่าที่จำเป็นแก่การให้บริการ โดยขึ้นอยู่กับประเภทของบริการที่ใช้\n"
        "2. ในกรณีเยี่ยมชมเว็บไซต์ วท. เก็บบันทึกการเข้าออกเว็บไซต์ (Log Files) เช่น หมายเลขไอพี "
        "ประเภทของบราวเซอร์ โดเมนเนม หน้าเว็บที่เข้าเยี่ยมชม เวลาที่เข้าเยี่ยมชม และเว็บไซต์ที่อ้างอิง\n"
        "3. ในกรณีสมัครสมาชิกเพื่อใช้บริการหรือร่วมกิจกรรม วท. อาจเก็บข้อมูลเพิ่มเติมเฉพาะที่บริการนั้นต้องใช้\n"
    ),
    "introduction_en": (
        "# Privacy policy of the Ministry of Science and Technology\n\n"
        "The Ministry of Science and Technology (MOST) cares about the security of personal data and keeps "
        "safe the personal data of the people who use its website and application.\n\n"
        "## Why we collect data\n\n"
        "MOST collects data to analyse and track usage and the popularity of its services, uses the "
        "statistics to improve service quality, and keeps logs to investigate problems after they happen.\n\n"
        "## What we collect\n\n"
        "1. Only the personal data the service you use needs, depending on the kind of service.\n"
        "2. On a visit, log files: IP address, browser type, domain name, pages visited, access times and the "
        "referring site.\n"
        "3. When you register for a service or an activity, further data only where that service needs it.\n"
    ),
    "summary_th": "ฉบับแรกที่สร้างจากการตั้งค่าของระบบ",
    "summary_en": "The first version generated from the site's configuration.",
}
MINBURI_POLICY = {
    "introduction_th": (
        "# นโยบายและแนวปฏิบัติในการคุ้มครองข้อมูลส่วนบุคคลของสำนักงานเขตมีนบุรี\n\n"
        "สำนักงานเขตมีนบุรีจัดทำนโยบายและแนวปฏิบัติในการคุ้มครองข้อมูลส่วนบุคคล "
        "เพื่อรักษาความปลอดภัยและป้องกันการนำข้อมูลส่วนบุคคลของผู้ใช้บริการเว็บไซต์และแอปพลิเคชัน"
        "ของสำนักงานเขตมีนบุรีไปใช้โดยมีเจตนาไม่สุจริต\n\n"
        "## การใช้ข้อมูลส่วนบุคคล\n\n"
        "สำนักงานเขตมีนบุรีจะใช้ข้อมูลของท่านให้เป็นไปตามกฎหมายและกฎเกณฑ์ต่าง ๆ ที่เกี่ยวข้อง "
        "หรือเพื่อปรับปรุงบริการของสำนักงานเขตมีนบุรีให้มีประสิทธิภาพมากขึ้น\n\n"
        "## ข้อแนะนำด้านการรักษาความปลอดภัย\n\n"
        "หลังจากท่านลงทะเบียนกับบริการทางอิเล็กทรอนิกส์ ท่านจะได้รับหมายเลขประจำตัว (User ID) และรหัสผ่าน "
        "สำนักงานเขตมีนบุรีจะทราบหมายเลขประจำตัวของท่านแต่จะไม่ทราบรหัสผ่านของท่าน ท่านควรเปลี่ยนรหัสผ่านเป็นประจำ "
        "และคลิก “ออกจากระบบ” ทุกครั้งที่ใช้บริการเสร็จ\n"
    ),
    "introduction_en": (
        "# Privacy protection policy of Minburi District Office\n\n"
        "Minburi District Office publishes this policy and practice to keep safe the personal data of the "
        "people who use its website and application, and to prevent its use in bad faith.\n\n"
        "## How we use personal data\n\n"
        "Minburi District Office uses your data in line with the law and the rules that apply, and to make "
        "its services better.\n\n"
        "## Security advice\n\n"
        "After registering for e-services you receive a user ID and a password. The office knows your user ID "
        "but not your password. Change your password regularly and log out each time you finish.\n"
    ),
    "summary_th": "ฉบับแรกที่สร้างจากการตั้งค่าของระบบ",
    "summary_en": "The first version generated from the site's configuration.",
}


def _agency_policy(agency: Agency) -> dict[str, str]:
    if agency.slug == MINBURI["slug"]:
        return MINBURI_POLICY
    return {
        "introduction_th": f"# นโยบายคุ้มครองข้อมูลส่วนบุคคลของ{agency.name_th}\n",
        "introduction_en": f"# Privacy policy of the {agency.name_en}\n",
        "summary_th": PLATFORM_POLICY["summary_th"],
        "summary_en": PLATFORM_POLICY["summary_en"],
    }


def load_policies() -> None:
    """Publishes a first platform policy and one per agency, unless one is already published."""
    scopes = [(None, PLATFORM_POLICY), *[(agency, _agency_policy(agency)) for agency in Agency.objects.all()]]
    for agency, texts in scopes:
        if policies.published_versions(agency).exists():
            continue
        draft = consent.start_policy_draft(agency=agency, actor=None)
        consent.save_policy_draft(version=draft, actor=None, effective_date=draft.effective_date, **texts)
        consent.publish_policy_version(version=draft, actor=None)
