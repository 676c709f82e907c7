"""The gateway: the one way staff read a citizen's personal data.

A staff view asks `read(request, record=…, fields=…, purpose=…)` (or `read_many` for a list). The
gateway checks, in this order, and records a denial the same way as an access:

1. the reader is an active staff member of an agency who passed the second factor in this session;
2. the purpose is one their role may read for (`ROLE_PURPOSES`; marketing never — D2);
3. the record's own access policy, registered by the app that owns the model (`register_policy`),
   grants these fields for this purpose — need-to-know: an officer sees only the fields of the
   services they are assigned to — and names the record's agency, which must be the reader's;
4. the person has not restricted this processing nor had an objection to it upheld (PDPA s32, s34;
   raksa.subjects.limits): if they have, their values come back as `WITHHELD` and the read is recorded
   as denied (`gateway.read_limited`), while the rest of a screen opens;
5. only then it commits the audit entry (on its own connection if the caller is in a transaction),
   and only if that entry is written does it open the values, with an opener limited to the
   subject and the fields granted. No other code can make a staff opener (raksa.vault.openers).

A denied read raises `AccessDenied` (a PermissionDenied); views that look records up for staff turn
another agency's or service's record into 404 before they get here, so the denial is the backstop.
"""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import HttpRequest
from django.utils.module_loading import import_string

from raksa.audit import actions
from raksa.audit.models import Outcome
from raksa.organisations.models import StaffMembership, StaffRole
from raksa.registry import registry
from raksa.subjects import limits
from raksa.vault.fields import row_context
from raksa.vault.openers import Opener, _staff_opener, field_ref, open_rows
from raksa.vault.sealed import WITHHELD, Opened

# What each role may read personal data for. Auditors verify the log and contractors receive
# scoped exports (disclosures): neither ever reads a citizen's values through the gateway.
ROLE_PURPOSES: dict[str, frozenset[str]] = {
    # Rights requests: only a case assigned to the officer (raksa.rights.policy).
    StaffRole.OFFICER: frozenset({"service_delivery", "contact", "rights_requests"}),
    StaffRole.DPO: frozenset({"rights_requests", "service_delivery", "contact"}),
    StaffRole.INVESTIGATOR: frozenset({"incident_investigation"}),
    StaffRole.ADMINISTRATOR: frozenset(),
    StaffRole.AUDITOR: frozenset(),
    StaffRole.CONTRACTOR: frozenset(),
}


@dataclass(frozen=True)
class Grant:
    """What a record's policy allows one staff member for one purpose."""

    agency_id: int
    fields: frozenset[str]
    legal_basis: str


# (staff membership, record, purpose) -> Grant, or None for "nothing for you here".
type Policy = Callable[[StaffMembership, Any, str], Grant | None]
_POLICIES: dict[type[Model], Policy] = {}


class AccessDenied(PermissionDenied):
    """The gateway refused; the refusal is in the audit log. The message carries no personal data."""


def register_policy(model: type[Model], policy: Policy) -> None:
    """Called by the app that owns a personal-data model (in its AppConfig.ready)."""
    if model in _POLICIES and _POLICIES[model] is not policy:
        raise ValueError(f"{model._meta.label} already has an access policy")
    _POLICIES[model] = policy


def read(request: HttpRequest, *, record: Model, fields: Sequence[str], purpose: str) -> dict[str, Opened]:
    return read_many(request, records=[record], fields=fields, purpose=purpose)[0]


def read_many(
    request: HttpRequest, *, records: Sequence[Model], fields: Sequence[str], purpose: str
) -> list[dict[str, Opened]]:
    """The fields of every record, each read audited; all or nothing if any is refused."""
    staff = _staff(request)
    wanted = list(dict.fromkeys(fields))
    contexts = [row_context(record) for record in records]
    grants = [_grant(staff, record, wanted, purpose) for record in records]
    if any(grant is None for grant in grants):
        actions.record_many_committed(
            [
                _entry(staff, record, context.subject_id, wanted, purpose, "", Outcome.DENIED)
                for record, context, grant in zip(records, contexts, grants, strict=True)
                if grant is None
            ]
        )
        raise AccessDenied("the gateway refused this read")
    # A person who restricted this processing (PDPA s34) or whose objection was upheld (s32): their values
    # are withheld and the refusal recorded, while the rest of the screen opens.
    withheld = limits.limited_among((context.subject_id for context in contexts), purpose)
    # Committed before any value is opened; if they cannot be written, this raises and nothing opens.
    actions.record_many_committed(
        [
            _entry(staff, record, context.subject_id, wanted, purpose, grant.legal_basis, Outcome.ALLOWED)
            if context.subject_id not in withheld
            else _entry(
                staff, record, context.subject_id, wanted, purpose, "", Outcome.DENIED, action="gateway.read_limited"
            )
            for record, context, grant in zip(records, contexts, grants, strict=True)
            if grant is not None
        ]
    )
    openers: dict[tuple[uuid.UUID, type[Model]], Opener] = {}
    rows = []
    for record, context in zip(records, contexts, strict=True):
        if context.subject_id in withheld:
            continue
        opener = openers.get((context.subject_id, type(record)))
        if opener is None:
            opener = openers[(context.subject_id, type(record))] = _staff_opener(
                subject_id=context.subject_id,
                fields=[field_ref(type(record), name) for name in wanted],
                purpose=purpose,
            )
        rows.append((opener, record))
    # Every key in one key-store query, each unwrapped once.
    opened = iter(open_rows(rows, wanted))
    return [dict.fromkeys(wanted, WITHHELD) if context.subject_id in withheld else next(opened) for context in contexts]


def _staff(request: HttpRequest) -> StaffMembership:
    user = request.user
    if not user.is_authenticated or not user.is_active or not user.is_staff:
        raise AccessDenied("staff only")
    membership = StaffMembership.objects.select_related("agency").filter(user_id=user.pk).first()
    if membership is None:
        raise AccessDenied("staff only")
    if not import_string(settings.RAKSA_STAFF_SECOND_FACTOR_CHECK)(request):
        actions.record_many_committed(
            [_entry(membership, None, None, [], "", "", Outcome.DENIED, action="gateway.read_without_mfa")]
        )
        raise AccessDenied("second factor required")
    return membership


def _grant(staff: StaffMembership, record: Model, fields: list[str], purpose: str) -> Grant | None:
    if purpose not in ROLE_PURPOSES.get(staff.role, frozenset()) or registry.purpose(purpose).refused:
        return None
    policy = _POLICIES.get(type(record))
    grant = policy(staff, record, purpose) if policy else None
    if grant is None or grant.agency_id != staff.agency_id or not set(fields) <= grant.fields:
        return None
    return grant


def _entry(
    staff: StaffMembership,
    record: Model | None,
    subject_id: uuid.UUID | None,
    fields: list[str],
    purpose: str,
    legal_basis: str,
    outcome: str,
    *,
    action: str = "gateway.read",
) -> dict[str, Any]:
    return {
        "action": action,
        "actor": staff.user_id,
        "role": staff.role,
        "agency_id": staff.agency_id,
        "subject_id": subject_id,
        "object_type": record._meta.label_lower if record is not None else "",
        "object_id": str(record.pk) if record is not None else "",
        "fields": fields,
        "purpose": purpose,
        "legal_basis": legal_basis,
        "outcome": outcome,
    }
