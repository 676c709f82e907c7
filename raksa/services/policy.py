"""Need-to-know for the staff gateway (S2): who may read which values of a registration.

An officer of the service's own agency who is assigned to that service may read, to deliver it, the
categories the service declares, and its case notes; to contact the person, only the contact
categories among them (U1). Everyone else gets nothing: the gateway then refuses and audits.
"""

from raksa.audit.gateway import Grant, register_policy
from raksa.organisations.models import StaffMembership, StaffRole
from raksa.registry import CONTACT, SERVICE_DELIVERY
from raksa.services.columns import CONTACT_COLUMNS
from raksa.services.models import CaseNote, Registration, Service


def _assigned(staff: StaffMembership, service: Service) -> bool:
    return staff.role == StaffRole.OFFICER and staff.pk in service.officer_ids


def registration_policy(staff: StaffMembership, record: Registration, purpose: str) -> Grant | None:
    service = record.service
    if service.agency_id != staff.agency_id or not _assigned(staff, service):
        return None
    declared = service.legal_bases
    if purpose == SERVICE_DELIVERY.code:
        fields = set(declared)
    elif purpose == CONTACT.code:
        fields = set(declared) & CONTACT_COLUMNS
    else:
        return None
    bases = "/".join(sorted({declared[field] for field in fields}))
    return Grant(agency_id=service.agency_id, fields=frozenset(fields), legal_basis=bases)


def case_note_policy(staff: StaffMembership, record: CaseNote, purpose: str) -> Grant | None:
    service = record.registration.service
    if purpose != SERVICE_DELIVERY.code or service.agency_id != staff.agency_id or not _assigned(staff, service):
        return None
    return Grant(agency_id=service.agency_id, fields=frozenset({"text"}), legal_basis="pdpa_24_4")


def register() -> None:
    register_policy(Registration, registration_policy)
    register_policy(CaseNote, case_note_policy)
