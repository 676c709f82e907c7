"""Demo recipients for Minburi: a postal processor and the district's public health centre.

Loaded before the demo policies, so a fresh demo's first policy covers them; a demo database made
before recipients existed shows them as pending changes until its DPO publishes a new version.
"""

from datetime import timedelta

from django.utils import timezone

from raksa.disclosures.models import Recipient, RecipientKind
from raksa.organisations.models import Agency

RECIPIENTS = [
    {
        "slug": "thailand-post-minburi",
        "name_th": "บริษัท ไปรษณีย์ไทย จำกัด",
        "name_en": "Thailand Post",
        "kind": RecipientKind.PROCESSOR,
        "contract_reference": "สัญญาจ้างเลขที่ 12/2569",
        "purposes": ["contact"],
        "fields": ["services.registration.name", "services.registration.address"],
    },
    {
        "slug": "minburi-health-centre",
        "name_th": "ศูนย์บริการสาธารณสุข 30 มีนบุรี",
        "name_en": "Minburi Public Health Centre 30",
        "kind": RecipientKind.AGENCY,
        "contract_reference": "บันทึกข้อตกลง 3/2569",
        "purposes": ["service_delivery"],
        "fields": ["services.registration.name", "services.registration.phone"],
    },
]


def load() -> None:
    minburi = Agency.objects.get(slug="minburi")
    expires = timezone.localdate() + timedelta(days=365)
    for details in RECIPIENTS:
        if Recipient.objects.filter(slug=details["slug"]).exists():
            continue
        recipient = Recipient(agency=minburi, contract_expires=expires, **details)
        recipient.full_clean()
        recipient.save()
