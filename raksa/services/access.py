"""Who may see which record of the services app: one helper per resource; 404 for anything not theirs."""

import uuid

from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest

from raksa.organisations.models import StaffMembership, StaffRole
from raksa.services.models import CaseNote, Registration, Service
from raksa.subjects.models import Subject


def published_service(slug: str) -> Service:
    """A service or activity as the public sees it (closed ones too: their page says so)."""
    service = Service.objects.select_related("agency__controller").filter(slug=slug).first()
    if service is None:
        raise Http404
    return service


def own_subject(request: HttpRequest) -> Subject:
    """The signed-in person's data subject; 404 for an account without one."""
    subject = getattr(request.user, "subject", None)
    if not isinstance(subject, Subject):
        raise Http404
    return subject


def own_registrations(request: HttpRequest) -> QuerySet[Registration]:
    return Registration.objects.filter(subject=own_subject(request)).select_related("service__agency")


def own_registration(request: HttpRequest, registration_id: uuid.UUID) -> Registration:
    """The signed-in person's own registration; 404 for anyone else's."""
    registration = own_registrations(request).filter(pk=registration_id).first()
    if registration is None:
        raise Http404
    return registration


def officer(request: HttpRequest) -> StaffMembership:
    """The signed-in officer's membership; 404 for anyone who is not an officer."""
    if not request.user.is_authenticated:
        raise Http404
    membership = (
        StaffMembership.objects.select_related("agency").filter(user=request.user, role=StaffRole.OFFICER).first()
    )
    if membership is None:
        raise Http404
    return membership


def queue(staff: StaffMembership) -> QuerySet[Registration]:
    """The registrations of the services this officer is assigned to, in their own agency only."""
    # The few services are fetched once and shared by their registrations: a join would make a Service,
    # and prefetch its fields and officers, for every row (half the time of a 1,000-row read).
    services = Service.objects.prefetch_related(
        "fields", Prefetch("officers", queryset=StaffMembership.objects.only("id"))
    )
    return Registration.objects.filter(service__agency_id=staff.agency_id, service__officers=staff).prefetch_related(
        Prefetch("service", queryset=services)
    )


def case(staff: StaffMembership, registration_id: uuid.UUID) -> Registration:
    """One registration of this officer's queue; 404 for another service's or agency's."""
    registration = queue(staff).filter(pk=registration_id).first()
    if registration is None:
        raise Http404
    return registration


def case_notes(registration: Registration) -> QuerySet[CaseNote]:
    return registration.notes.select_related("registration__service").prefetch_related(
        Prefetch("registration__service__officers", queryset=StaffMembership.objects.only("id"))
    )
