"""Who may see what in the rights app: one helper per resource, 404 for anything not theirs.

A person reaches only their own cases and exports. Staff handle cases of their own controller: a DPO
sees every one of them, an officer only those assigned to them.
"""

from django import forms
from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from raksa.accounts.models import User
from raksa.consent.access import own_subject
from raksa.organisations.models import StaffMembership, StaffRole
from raksa.rights.models import Export, RightsRequest

HANDLER_ROLES = (StaffRole.DPO, StaffRole.OFFICER)


def account(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise Http404
    return user


def _own(model: type[RightsRequest] | type[Export], request: HttpRequest, pk: str) -> RightsRequest | Export:
    try:
        return model.objects.get(pk=pk, subject=own_subject(request))
    except (model.DoesNotExist, ValueError, forms.ValidationError) as missing:
        raise Http404 from missing


def own_request(request: HttpRequest, request_id: str) -> RightsRequest:
    """The person's own rights request, or not found."""
    case = _own(RightsRequest, request, request_id)
    assert isinstance(case, RightsRequest)
    return case


def own_export(request: HttpRequest, export_id: str) -> Export:
    """The person's own export, or not found."""
    export = _own(Export, request, export_id)
    assert isinstance(export, Export)
    return export


def handler(request: HttpRequest) -> StaffMembership:
    """The requesting DPO's or officer's membership; 404 for anyone else."""
    user = request.user
    membership = (
        StaffMembership.objects.filter(user_id=user.pk, role__in=HANDLER_ROLES)
        .select_related("agency__controller", "user")
        .first()
        if user.is_authenticated
        else None
    )
    if membership is None:
        raise Http404
    return membership


def cases_of(membership: StaffMembership) -> QuerySet[RightsRequest]:
    """The cases this DPO (all of their controller's) or officer (those assigned to them) handles."""
    cases = RightsRequest.objects.filter(controller_id=membership.agency.controller_id)
    if membership.role != StaffRole.DPO:
        cases = cases.filter(assigned_to_id=membership.user_id)
    return cases


def staff_case(request: HttpRequest, request_id: str) -> tuple[StaffMembership, RightsRequest]:
    """A case the requesting DPO or officer handles; 404 for any other."""
    membership = handler(request)
    case = cases_of(membership).filter(pk=request_id).first()
    if case is None:
        raise Http404
    return membership, case


def dpo(request: HttpRequest) -> StaffMembership:
    """Only a DPO assigns cases; 404 for anyone else."""
    membership = handler(request)
    if membership.role != StaffRole.DPO:
        raise Http404
    return membership


def handlers_for(membership: StaffMembership) -> QuerySet[StaffMembership]:
    """The DPOs and officers a case of this controller may be assigned to."""
    return StaffMembership.objects.filter(
        agency__controller_id=membership.agency.controller_id, role__in=HANDLER_ROLES, user__is_active=True
    ).select_related("user", "agency")
