"""Who may see what in the consent app: one helper per resource, 404 for anything not theirs."""

from django.http import Http404, HttpRequest

from raksa.consent.models import Inquiry, PolicyVersion
from raksa.organisations.models import Agency, StaffMembership, StaffRole
from raksa.subjects.models import Subject

PLATFORM = "platform"


def policy_scope(scope: str) -> Agency | None:
    """The agency named in a policy URL, or None for the platform's own policy."""
    if scope == PLATFORM:
        return None
    agency = Agency.objects.filter(slug=scope).first()
    if agency is None:
        raise Http404
    return agency


def scope_of(agency: Agency | None) -> str:
    return agency.slug if agency else PLATFORM


def dpo_membership(request: HttpRequest) -> StaffMembership:
    """The requesting DPO's membership; 404 for anyone else."""
    user = request.user
    membership = (
        StaffMembership.objects.filter(user_id=user.pk, role=StaffRole.DPO).select_related("agency__controller").first()
        if user.is_authenticated
        else None
    )
    if membership is None:
        raise Http404
    return membership


def agency_inquiry(request: HttpRequest, reference: str) -> tuple[StaffMembership, Inquiry]:
    """A question sent to the requesting DPO's own agency; 404 for another agency's and for anyone else."""
    membership = dpo_membership(request)
    inquiry = Inquiry.objects.filter(reference=reference, agency_id=membership.agency_id).first()
    if inquiry is None:
        raise Http404
    return membership, inquiry


def mailing_sender(request: HttpRequest) -> StaffMembership:
    """The agency's administrator or DPO, who sends its news and surveys; 404 for anyone else."""
    user = request.user
    membership = (
        StaffMembership.objects.filter(user_id=user.pk, role__in=[StaffRole.ADMINISTRATOR, StaffRole.DPO])
        .select_related("agency")
        .first()
        if user.is_authenticated
        else None
    )
    if membership is None:
        raise Http404
    return membership


def dpo_for_scope(request: HttpRequest, scope: str) -> Agency | None:
    """A DPO edits their own agency's policy; the platform's, if their controller operates the platform."""
    membership = dpo_membership(request)
    agency = policy_scope(scope)
    if agency is None and membership.agency.controller.is_platform_operator:
        return None
    if agency is not None and agency.pk == membership.agency_id:
        return agency
    raise Http404


def own_subject(request: HttpRequest) -> Subject:
    """The logged-in person's own subject; 404 for a visitor without one."""
    user = request.user
    subject = getattr(user, "subject", None) if user.is_authenticated else None
    if subject is None:
        raise Http404
    return subject


def published_version(agency: Agency | None, number: int) -> PolicyVersion:
    version = PolicyVersion.objects.filter(agency=agency, number=number, status="published").first()
    if version is None:
        raise Http404
    return version
