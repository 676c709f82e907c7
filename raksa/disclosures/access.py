"""Who may see what in the disclosures app: one helper per resource, 404 for anything not theirs."""

import uuid

from django.http import Http404, HttpRequest

from raksa.consent.access import dpo_membership, own_subject
from raksa.disclosures.models import Breach, Recipient
from raksa.organisations.models import StaffMembership, StaffRole
from raksa.registry import registry
from raksa.subjects.models import Subject

__all__ = ["agency_breach", "agency_person", "contractor_recipients", "dpo_membership", "own_subject", "person"]


def person(request: HttpRequest) -> Subject:
    return own_subject(request)


def agency_breach(request: HttpRequest, breach_id: int) -> tuple[StaffMembership, Breach]:
    """A breach of the DPO's own agency."""
    membership = dpo_membership(request)
    breach = Breach.objects.filter(pk=breach_id, agency=membership.agency).first()
    if breach is None:
        raise Http404
    return membership, breach


def agency_person(request: HttpRequest, subject_id: str) -> tuple[StaffMembership, Subject]:
    """A person the DPO's agency holds data of (under its controller); 404 for anyone else."""
    membership = dpo_membership(request)
    try:
        subject = Subject.objects.get(pk=uuid.UUID(str(subject_id)))
    except (ValueError, Subject.DoesNotExist):
        raise Http404 from None
    controller_id = membership.agency.controller_id
    for store in registry.stores():
        model = store.model_class()
        subject_field = getattr(model, "vault_subject_field", None)
        controller_field = getattr(model, "vault_controller_field", None)
        if subject_field and controller_field:
            found = model._default_manager.filter(**{subject_field: subject, f"{controller_field}_id": controller_id})
            if found.exists():
                return membership, subject
    raise Http404


def contractor_recipients(request: HttpRequest) -> list[Recipient]:
    """The processors this contractor account works for; 404 for any other account."""
    user = request.user
    membership = (
        StaffMembership.objects.filter(user_id=user.pk, role=StaffRole.CONTRACTOR).first()
        if user.is_authenticated
        else None
    )
    if membership is None:
        raise Http404
    return list(Recipient.objects.filter(agency_id=membership.agency_id, kind="processor", accounts=user.pk))


def contractor_recipient(request: HttpRequest, slug: str) -> Recipient:
    for recipient in contractor_recipients(request):
        if recipient.slug == slug:
            return recipient
    raise Http404
