"""Need-to-know for the staff gateway (S2): who may read a question sent to the DPO.

Only a DPO of the agency it was sent to, to answer it (the purpose "rights requests"): the sender's
name and address, the message and the answer. Everyone else gets nothing; the gateway refuses and audits.
"""

from raksa.audit.gateway import Grant, register_policy
from raksa.consent.models import Inquiry
from raksa.organisations.models import StaffMembership, StaffRole
from raksa.registry import PUBLIC_TASK, RIGHTS_REQUESTS

INQUIRY_FIELDS = frozenset({"name", "email", "message", "answer"})


def inquiry_policy(staff: StaffMembership, record: Inquiry, purpose: str) -> Grant | None:
    if staff.role != StaffRole.DPO or record.agency_id != staff.agency_id or purpose != RIGHTS_REQUESTS.code:
        return None
    return Grant(agency_id=record.agency_id, fields=INQUIRY_FIELDS, legal_basis=PUBLIC_TASK.code)


def register() -> None:
    register_policy(Inquiry, inquiry_policy)
