import calendar as calendars
import datetime
import uuid
from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from raksa.accounts.mfa import staff_mfa_required
from raksa.audit import gateway
from raksa.core.caching import public_page
from raksa.core.templatetags.thai_dates import local_date
from raksa.services import access, actions, ical, thai
from raksa.services import notice as notices
from raksa.services.forms import NoteForm, RegistrationForm, StatusForm
from raksa.services.models import Kind, NoteKind, Registration, Service, Status
from raksa.services.prefill import prefill_offer
from raksa.services.processing import fields_in_force
from raksa.services.publishing import upcoming_activities, with_seats_taken
from raksa.services.waitlist import waiting_position
from raksa.vault import crypto, keys
from raksa.vault.openers import Opener
from raksa.vault.sealed import Sealed

QUEUE_PAGE_SIZE = 50
# What the officer's queue shows of each registration, where the service asks for it.
QUEUE_COLUMNS = ("name", "phone")


# The public pages ---------------------------------------------------------------------------------
@require_GET
@public_page
def service_list(request: HttpRequest) -> HttpResponse:
    services = Service.objects.filter(is_open=True).select_related("agency").order_by("kind", "title_th")
    return render(
        request,
        "services/list.html",
        {
            "services": [s for s in services if s.kind == Kind.SERVICE],
            "activities": [
                s for s in services if s.kind == Kind.ACTIVITY and s.ends_at and s.ends_at >= timezone.now()
            ],
        },
    )


def _seats_left(service: Service) -> int | None:
    if not service.is_activity:
        return None
    return max((service.capacity or 0) - actions.seats_taken(service), 0)


def _render_service(
    request: HttpRequest, service: Service, form: RegistrationForm | None = None, status: int = 200
) -> HttpResponse:
    declared = fields_in_force(list(service.fields.all()))
    notice = actions.current_notice(service, declared)
    language = get_language() or "th"
    if form is None and request.user.is_authenticated and service.is_open:
        form = RegistrationForm(
            declared=declared,
            language=language,
            initial={"submission_key": uuid.uuid4(), "notice": notice.number, **prefill_offer(request, service)},
        )
    existing = None
    if request.user.is_authenticated:
        existing = (
            service.registrations.filter(subject=access.own_subject(request))
            .exclude(status__in=[Status.CANCELLED, Status.REJECTED])
            .first()
        )
    return render(
        request,
        "services/detail.html",
        {
            "service": service,
            "notice": notices.localised(notice.content, language),
            "notice_version": notice,
            "form": form,
            "seats_left": _seats_left(service),
            "existing": existing,
        },
        status=status,
    )


@require_GET
@public_page
def service_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return _render_service(request, access.published_service(slug))


@login_required
@require_POST
def register(request: HttpRequest, slug: str) -> HttpResponse:
    service = access.published_service(slug)
    subject = access.own_subject(request)
    if not service.is_open:
        messages.error(request, _("This service is closed: it is not taking registrations now."))
        return _render_service(request, service, status=409)
    declared = fields_in_force(list(service.fields.all()))
    form = RegistrationForm(request.POST, declared=declared, language=get_language() or "th")
    form.refuse_undeclared(request.POST)
    if not form.is_valid():
        return _render_service(request, service, form, status=400)
    try:
        registration, created = actions.register(
            **form.register_arguments(service=service, subject=subject, actor=request.user)
        )
    except actions.NoticeChangedError:
        messages.warning(
            request, _("What this service collects has changed. Read the new notice and send the form again.")
        )
        return _render_service(request, service, status=409)
    except actions.ServiceClosedError:
        messages.error(request, _("This service is closed: it is not taking registrations now."))
        return _render_service(request, service, status=409)
    except actions.RegistrationRefusedError:
        messages.error(request, _("Your registration could not be accepted. Check the form and try again."))
        return _render_service(request, service, form, status=400)
    if not created:
        messages.info(request, _("You are already registered; this is your registration."))
    elif registration.status == Status.WAITLISTED:
        messages.warning(
            request,
            _("The activity is full. You are on the waiting list and will be told by e-mail if a seat frees up."),
        )
    else:
        messages.success(
            request,
            _("Your registration was received. Reference: %(reference)s") % {"reference": registration.reference},
        )
    return redirect("services:mine_detail", registration_id=registration.pk)


# The person's own registrations -------------------------------------------------------------------
@login_required
@require_GET
def my_registrations(request: HttpRequest) -> HttpResponse:
    registrations = access.own_registrations(request).order_by("-created_at")
    return render(request, "services/mine.html", {"registrations": registrations})


@login_required
@require_GET
def my_registration(request: HttpRequest, registration_id: uuid.UUID) -> HttpResponse:
    registration = access.own_registration(request, registration_id)
    opener = Opener.for_subject(registration.subject_id)
    labels = {field.category: field.registry_category.label for field in registration.service.fields.all()}
    values = opener.open_many([registration], list(labels))[0]
    shown = []
    for code, label in labels.items():
        value = values.get(code)
        if code == "birth_date" and value:
            value = local_date(datetime.date.fromisoformat(str(value)), "long")
        shown.append((label, value))
    decisions = [opener.open(note.text) for note in registration.notes.filter(kind=NoteKind.DECISION)]
    return render(
        request,
        "services/mine_detail.html",
        {
            "registration": registration,
            "values": shown,
            "decisions": decisions,
            "notice": notices.localised(registration.notice.content, get_language() or "th"),
            "notice_version": registration.notice,
            "waiting_position": waiting_position(registration),
        },
    )


@login_required
@require_POST
def cancel(request: HttpRequest, registration_id: uuid.UUID) -> HttpResponse:
    registration = access.own_registration(request, registration_id)
    actions.cancel_registration(registration=registration, actor=request.user)
    messages.success(request, _("Your registration is cancelled."))
    return redirect("services:mine_detail", registration_id=registration.pk)


@login_required
@require_GET
def registration_ics(request: HttpRequest, registration_id: uuid.UUID) -> HttpResponse:
    registration = access.own_registration(request, registration_id)
    body = ical.registration_calendar(registration, url=ical.service_url(request, registration.service))
    if body is None:
        raise Http404
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="activity.ics"'
    return response


# The calendar (no personal data) ------------------------------------------------------------------
def _month(request: HttpRequest) -> tuple[int, int]:
    today = timezone.localdate()
    try:
        year, month = (int(part) for part in request.GET.get("month", "").split("-"))
        datetime.date(year, month, 1)
    except ValueError:
        return today.year, today.month
    return year, month


@require_GET
def calendar_month(request: HttpRequest) -> HttpResponse:
    year, month = _month(request)
    language = get_language() or "th"
    first = datetime.date(year, month, 1)
    last = datetime.date(year, month, calendars.monthrange(year, month)[1])
    by_day: dict[datetime.date, list[Service]] = defaultdict(list)
    for activity in Service.objects.filter(kind=Kind.ACTIVITY).select_related("agency").order_by("starts_at"):
        assert activity.starts_at is not None
        day = timezone.localtime(activity.starts_at).date()
        if first <= day <= last:
            by_day[day].append(activity)
    weeks = [
        [{"date": day, "in_month": day.month == month, "activities": by_day.get(day, [])} for day in week]
        for week in calendars.Calendar(firstweekday=0).monthdatescalendar(year, month)
    ]
    previous_month = (first - datetime.timedelta(days=1)).replace(day=1)
    next_month = last + datetime.timedelta(days=1)
    weekdays = thai.WEEKDAYS_TH_SHORT if language == "th" else ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    return render(
        request,
        "services/calendar_month.html",
        {
            "title": thai.month_title(year, month, language=language),
            "weeks": weeks,
            "weekdays": weekdays,
            "previous": f"{previous_month.year}-{previous_month.month:02d}",
            "next": f"{next_month.year}-{next_month.month:02d}",
            "count": sum(len(items) for items in by_day.values()),
        },
    )


@require_GET
def calendar_list(request: HttpRequest) -> HttpResponse:
    activities = with_seats_taken(upcoming_activities())
    return render(request, "services/calendar_list.html", {"activities": activities})


@require_GET
def calendar_feed(request: HttpRequest) -> HttpResponse:
    events = []
    for activity in Service.objects.filter(kind=Kind.ACTIVITY).select_related("agency").order_by("starts_at"):
        url = ical.service_url(request, activity)
        events.append(ical.event_lines(activity, url=url))
    body = ical.calendar(events, name=_("Activity calendar"))
    return HttpResponse(body, content_type="text/calendar; charset=utf-8")


# Officers -----------------------------------------------------------------------------------------
@staff_mfa_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    staff = access.officer(request)
    registrations = access.queue(staff).order_by("created_at", "id")
    status = request.GET.get("status", "")
    if status in Status.values:
        registrations = registrations.filter(status=status)
    page = Paginator(registrations, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = _queue_rows(request, list(page.object_list))
    services = Service.objects.filter(agency_id=staff.agency_id, officers=staff).order_by("title_th")
    return render(
        request,
        "services/queue.html",
        {"page": page, "rows": rows, "services": services, "statuses": Status.choices, "status": status},
    )


def _queue_rows(request: HttpRequest, registrations: list[Registration]) -> list[dict]:
    """Each registration with its queue columns, read through the gateway one service at a time."""
    by_service: dict[int, list[Registration]] = defaultdict(list)
    for registration in registrations:
        by_service[registration.service_id].append(registration)
    values: dict[uuid.UUID, dict] = {}
    for group in by_service.values():
        declared = {field.category for field in group[0].service.fields.all()}
        columns = [column for column in QUEUE_COLUMNS if column in declared]
        if not columns:
            continue
        _fetch_keys(group, columns)
        opened = gateway.read_many(request, records=group, fields=columns, purpose="service_delivery")
        values.update({registration.pk: row for registration, row in zip(group, opened, strict=True)})
    return [{"registration": registration, "values": values.get(registration.pk, {})} for registration in registrations]


def _fetch_keys(registrations: list[Registration], columns: list[str]) -> None:
    """Looks up every data key the page will need in one query, ahead of the gateway's reads.

    Each registrant has their own key; without this, opening a page of values costs a key-store
    query per row. Keys stay in this request's vault session only; nothing is opened here.
    """
    sealed = (getattr(registration, column) for registration in registrations for column in columns)
    keys.keys_by_id({crypto.key_id_of(value.blob) for value in sealed if isinstance(value, Sealed)})


def _render_case(
    request: HttpRequest,
    registration: Registration,
    *,
    status_form: StatusForm | None = None,
    note_form: NoteForm | None = None,
    status: int = 200,
) -> HttpResponse:
    declared = list(registration.service.fields.all())
    opened = gateway.read(
        request, record=registration, fields=[field.category for field in declared], purpose="service_delivery"
    )
    values = []
    for field in declared:
        value = opened.get(field.category)
        if field.category == "birth_date" and value:
            value = local_date(datetime.date.fromisoformat(str(value)), "long")
        values.append((field.registry_category.label, value))
    notes = list(access.case_notes(registration))
    texts = gateway.read_many(request, records=notes, fields=["text"], purpose="service_delivery") if notes else []
    return render(
        request,
        "services/case.html",
        {
            "registration": registration,
            "values": values,
            "notes": [(note, text["text"]) for note, text in zip(notes, texts, strict=True)],
            "status_form": status_form or StatusForm(initial={"status": registration.status}),
            "note_form": note_form or NoteForm(),
        },
        status=status,
    )


@staff_mfa_required
@require_GET
def case(request: HttpRequest, registration_id: uuid.UUID) -> HttpResponse:
    staff = access.officer(request)
    return _render_case(request, access.case(staff, registration_id))


@staff_mfa_required
@require_POST
def case_status(request: HttpRequest, registration_id: uuid.UUID) -> HttpResponse:
    staff = access.officer(request)
    registration = access.case(staff, registration_id)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return _render_case(request, registration, status_form=form, status=400)
    try:
        actions.change_status(
            registration=registration,
            staff=staff,
            status=form.cleaned_data["status"],
            reason=form.cleaned_data["reason"],
        )
    except actions.CancelledByPersonError:
        messages.error(request, _("The person cancelled this registration; its status cannot change."))
        return redirect("services:case", registration_id=registration.pk)
    except actions.NoSeatLeftError:
        messages.error(request, _("The activity is full: this registration stays on the waiting list."))
        return redirect("services:case", registration_id=registration.pk)
    except actions.CaseErasedError:
        messages.error(request, _("This case's personal data was erased: nothing more can be written to it."))
        return redirect("services:case", registration_id=registration.pk)
    messages.success(request, _("The status is changed."))
    return redirect("services:case", registration_id=registration.pk)


@staff_mfa_required
@require_POST
def case_note(request: HttpRequest, registration_id: uuid.UUID) -> HttpResponse:
    staff = access.officer(request)
    registration = access.case(staff, registration_id)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _render_case(request, registration, note_form=form, status=400)
    try:
        actions.add_note(registration=registration, staff=staff, text=form.cleaned_data["text"])
    except actions.CaseErasedError:
        messages.error(request, _("This case's personal data was erased: nothing more can be written to it."))
        return redirect("services:case", registration_id=registration.pk)
    messages.success(request, _("The note is added."))
    return redirect("services:case", registration_id=registration.pk)


@staff_mfa_required
@require_POST
def case_notify(request: HttpRequest, registration_id: uuid.UUID) -> HttpResponse:
    staff = access.officer(request)
    registration = access.case(staff, registration_id)
    actions.notify_person(registration=registration, staff=staff)
    messages.success(request, _("The person will be told by e-mail that their case has news."))
    return redirect("services:case", registration_id=registration.pk)
