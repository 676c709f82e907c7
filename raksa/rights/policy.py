"""Need-to-know for the staff gateway (S2): who may read what a person wrote in their rights request.

A DPO of the request's controller, or the officer the case is assigned to, may read its details and
the reply address, for handling the request; everyone else gets nothing (the gateway refuses and audits).
"""

from raksa.audit.gateway import Grant, register_policy
from raksa.organisations.models import StaffMembership, StaffRole
from raksa.registry import LEGAL_OBLIGATION, RIGHTS_REQUESTS
from raksa.rights.models import RightsRequest


def request_policy(staff: StaffMembership, record: RightsRequest, purpose: str) -> Grant | None:
    if purpose != RIGHTS_REQUESTS.code or staff.agency.controller_id != record.controller_id:
        return None
    if staff.role != StaffRole.DPO and record.assigned_to_id != staff.user_id:
        return None
    return Grant(
        agency_id=staff.agency_id, fields=frozenset({"details", "contact_email"}), legal_basis=LEGAL_OBLIGATION.code
    )


def register() -> None:
    register_policy(RightsRequest, request_policy)
