"""Demo data in the spirit of the seeds: a ministry and the Bangkok Metropolitan Administration."""

from typing import Any

from django.db import transaction

from raksa.accounts.models import User
from raksa.organisations import actions as organisations
from raksa.organisations.models import Agency, StaffMembership, StaffRole
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


def account_lines() -> list[str]:
    lines = ["Demo accounts (user ID / password):"]
    lines += [f"  {username:<17} {password:<20} {description}" for username, password, _a, _r, description in ACCOUNTS]
    return lines
