"""Services and activities, registering for one, and the person's own registrations.

Registration goes through the web's own form (`RegistrationForm`, generated from the service's
declaration): the same Thai validation, the same refusal of anything the service did not declare
(C1), the same action.
"""

import uuid
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from raksa.api import problems
from raksa.api.auth import PERSON
from raksa.api.pagination import PageQuery, page_of_queryset
from raksa.api.problems import Problem
from raksa.api.schemas import (
    ActivityPage,
    InputFieldOut,
    RegistrationIn,
    RegistrationOut,
    RegistrationPage,
    ServiceDetailOut,
    ServiceOut,
    ServicePage,
)
from raksa.services import access, actions, ical, publishing
from raksa.services import notice as notices
from raksa.services.forms import ADDRESS_PARTS, FORM_KEYS, RegistrationForm, address_key, consent_key
from raksa.services.models import Registration, Service
from raksa.services.processing import fields_in_force
from raksa.services.waitlist import waiting_position

router = Router(tags=["services and activities"])
_CONSENT_PREFIX = consent_key("")
ICS = "text/calendar; charset=utf-8"


def _language() -> str:
    return get_language() or "th"


def _service(service: Service) -> dict[str, Any]:
    return {
        "slug": service.slug,
        "kind": service.kind,
        "title": service.title,
        "description": service.description,
        "agency": service.agency.slug,
        "is_open": service.is_open,
        "starts_at": service.starts_at,
        "ends_at": service.ends_at,
        "place": service.place,
    }


@router.get("/services", response=ServicePage, summary="Services and activities open for registration")
def services(request: HttpRequest, page: Query[PageQuery]) -> ServicePage:
    listed = Service.objects.filter(is_open=True).select_related("agency")
    rows, cursor = page_of_queryset(listed, scope="services", order=("slug",), page=page)
    return ServicePage(items=[ServiceOut(**_service(service)) for service in rows], next_cursor=cursor)


def _form(service: Service, data: dict[str, Any] | None = None) -> RegistrationForm:
    declared = fields_in_force(list(service.fields.select_related("service__agency")))
    return RegistrationForm(data, declared=declared, language=_language())


def _category(name: str) -> str:
    return "address" if name in {address_key(part) for part in ADDRESS_PARTS} else name


@router.get(
    "/services/{slug}",
    response=ServiceDetailOut,
    summary="A service, with its notice at collection and the fields it asks for",
)
def service(request: HttpRequest, slug: str) -> ServiceDetailOut:
    found = access.published_service(slug)
    notice = actions.current_notice(found)
    form = _form(found)
    sensitive = {field.category for field in form.declared if field.registry_category.sensitive}
    fields = [
        InputFieldOut(
            name=name,
            label=str(field.label),
            category=_category(name),
            required=field.required,
            sensitive=_category(name) in sensitive,
        )
        for name, field in form.fields.items()
        if name not in FORM_KEYS and not name.startswith(_CONSENT_PREFIX)
    ]
    seats = None
    if found.is_activity:
        seats = max((found.capacity or 0) - actions.seats_taken(found), 0)
    return ServiceDetailOut(
        **_service(found),
        notice_version=notice.number,
        notice=notices.localised(notice.content, _language()),
        fields=fields,
        seats_left=seats,
    )


def _registration(registration: Registration) -> RegistrationOut:
    return RegistrationOut(
        id=registration.pk,
        reference=registration.reference,
        service=registration.service.slug,
        service_title=registration.service.title,
        status=registration.status,
        created_at=registration.created_at,
        waiting_position=waiting_position(registration),
    )


def _form_errors(form: RegistrationForm) -> Problem:
    def where(name: str) -> str:
        if name == "__all__":
            return ""
        if name.startswith(_CONSENT_PREFIX):
            return "explicit_consents"
        return name if name in FORM_KEYS else f"values/{name}"

    errors: dict[str, list[str]] = {}
    for name, messages in form.errors.items():
        errors.setdefault(where(name), []).extend(str(message) for message in messages)
    return problems.invalid(errors)


@router.post(
    "/services/{slug}/registrations",
    response={200: RegistrationOut, 201: RegistrationOut},
    auth=PERSON,
    summary="Register for a service or an activity",
    description="201 for a new registration; 200 with the existing one when the same `submission_key` "
    "(or, for an activity, the same person) was already registered.",
)
def register(request: HttpRequest, slug: str, payload: RegistrationIn) -> Status:
    found = access.published_service(slug)
    subject = access.own_subject(request)
    if not found.is_open:
        raise Problem("conflict", _("This service is closed: it is not taking registrations now."))
    reserved = sorted(key for key in payload.values if key in FORM_KEYS or key.startswith(_CONSENT_PREFIX))
    if reserved:
        raise problems.invalid({f"values/{key}": [_("This service does not ask for this.")] for key in reserved})
    data: dict[str, Any] = {
        **payload.values,
        "submission_key": str(payload.submission_key),
        "notice": str(payload.notice),
        **({"era": payload.era} if payload.era else {}),
        **{consent_key(category): "on" for category in payload.explicit_consents},
    }
    form = _form(found, data)
    form.refuse_undeclared(data)
    if not form.is_valid():
        raise _form_errors(form)
    try:
        registration, created = actions.register(
            **form.register_arguments(service=found, subject=subject, actor=request.user)
        )
    except actions.NoticeChangedError:
        raise Problem(
            "conflict", _("What this service collects has changed. Read the new notice and send the form again.")
        ) from None
    except actions.ServiceClosedError:
        raise Problem("conflict", _("This service is closed: it is not taking registrations now.")) from None
    except actions.RegistrationRefusedError:
        refused = _("Your registration could not be accepted. Check the form and try again.")
        raise problems.invalid({"": [refused]}) from None
    return Status(201 if created else 200, _registration(registration))


@router.get("/me/registrations", response=RegistrationPage, auth=PERSON, summary="My registrations")
def my_registrations(request: HttpRequest, page: Query[PageQuery]) -> RegistrationPage:
    mine: QuerySet[Registration] = access.own_registrations(request)
    rows, cursor = page_of_queryset(mine, scope="registrations", order=("-created_at", "-id"), page=page)
    return RegistrationPage(items=[_registration(row) for row in rows], next_cursor=cursor)


@router.get(
    "/me/registrations/{uuid:registration_id}",
    response=RegistrationOut,
    auth=PERSON,
    summary="One of my registrations",
)
def my_registration(request: HttpRequest, registration_id: uuid.UUID) -> RegistrationOut:
    return _registration(access.own_registration(request, registration_id))


@router.get(
    "/me/registrations/{uuid:registration_id}/activity.ics",
    response={200: None},
    auth=PERSON,
    summary="My activity as a calendar file",
    description="The same iCalendar file as the website's: only for an activity where the registration holds "
    "a seat (404 otherwise, and for anyone else's registration).",
    openapi_extra={
        "responses": {200: {"description": "iCalendar (RFC 5545)", "content": {ICS: {"schema": {"type": "string"}}}}}
    },
)
def registration_ics(request: HttpRequest, registration_id: uuid.UUID) -> HttpResponse:
    registration = access.own_registration(request, registration_id)
    body = ical.registration_calendar(registration, url=ical.service_url(request, registration.service))
    if body is None:
        raise Problem("not-found")
    response = HttpResponse(body, content_type=ICS)
    response["Content-Disposition"] = 'attachment; filename="activity.ics"'
    return response


@router.delete(
    "/me/registrations/{uuid:registration_id}",
    response=RegistrationOut,
    auth=PERSON,
    summary="Cancel my registration",
)
def cancel(request: HttpRequest, registration_id: uuid.UUID) -> RegistrationOut:
    registration = access.own_registration(request, registration_id)
    return _registration(actions.cancel_registration(registration=registration, actor=request.user))


@router.get("/activities", response=ActivityPage, summary="Upcoming activities, soonest first")
def activities(request: HttpRequest, page: Query[PageQuery]) -> ActivityPage:
    upcoming = publishing.upcoming_activities().exclude(starts_at=None)
    rows, cursor = page_of_queryset(upcoming, scope="activities", order=("starts_at", "id"), page=page)
    return ActivityPage(items=[ServiceOut(**_service(activity)) for activity in rows], next_cursor=cursor)
