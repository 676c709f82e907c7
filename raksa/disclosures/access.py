"""Who may see what in the disclosures app: one helper per resource, 404 for anything not theirs."""

from django.http import Http404, HttpRequest

from raksa.consent.access import dpo_membership, own_subject
from raksa.disclosures.models import Breach, Recipient
from raksa.organisations.models import StaffMembership, StaffRole
from raksa.subjects.models import Subject

__all__ = ["agency_breach", "contractor_recipients", "dpo_membership", "own_subject", "person"]


def person(request: HttpRequest) -> Subject:
    return own_subject(request)


def agency_breach(request: HttpRequest, breach_id: int) -> tuple[StaffMembership, Breach]:
    """A breach of the DPO's own agency."""
    membership = dpo_membership(request)
    breach = Breach.objects.filter(pk=breach_id, agency=membership.agency).first()
    if breach is None:
        raise Http404
    return membership, breach


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
