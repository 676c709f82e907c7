"""The DPO's and officers' pages: the queue with its deadlines, one case and its steps, walk-in requests.

Every view is for staff who passed the second factor (`staff_mfa_required`), finds its case through
`raksa.rights.access` (404 for a case not theirs), writes through `raksa.rights.actions` (each step
audited) and reads what the person wrote through the gateway (audited, need-to-know).
"""

from collections.abc import Callable
from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from raksa.accounts.mfa import staff_mfa_required
from raksa.accounts.models import User
from raksa.audit import gateway
from raksa.organisations.models import StaffMembership, StaffRole
from raksa.registry import RIGHTS_REQUESTS, registry
from raksa.rights import access, actions, queue
from raksa.rights.forms import (
    AssignForm,
    ExtendForm,
    IdentityForm,
    LimitForm,
    LinkForm,
    RectifyForm,
    StatusForm,
    WalkInForm,
)
from raksa.rights.models import CLOSED, RequestType, RightsRequest, Status
from raksa.subjects.models import Subject


@never_cache
@require_GET
@staff_mfa_required
def queue_page(request: HttpRequest) -> HttpResponse:
    membership = access.handler(request)
    today = timezone.localdate()
    cases = access.cases_of(membership).exclude(status__in=CLOSED).order_by("due_date", "received_at")
    rows = [
        {"case": case, "overdue": case.due_date < today, "close": today <= case.due_date <= today + queue.CLOSE_TO_DUE}
        for case in cases.select_related("assigned_to")
    ]
    return render(
        request,
        "rights/staff/queue.html",
        {"rows": rows, "sla": queue.sla(), "membership": membership, "is_dpo": membership.role == StaffRole.DPO},
    )


def _targets(case: RightsRequest) -> list[tuple[str, str, str, str]]:
    """(store, row ID, field, label) of every sealed value held about the person: names only, no values."""
    targets = []
    for store, row_id, field in actions.correctable_fields(case.subject_id):
        declaration = registry.declaration(store, field)
        label = f"{declaration.model_class()._meta.verbose_name} {row_id[:8]} — {declaration.category.label}"
        targets.append((store, row_id, field, label))
    return targets


def _forms(membership: StaffMembership, case: RightsRequest, data: Any = None, step: str = "") -> dict[str, forms.Form]:
    def bound(name: str) -> Any:
        return data if step == name else None

    found: dict[str, forms.Form] = {
        "identity": IdentityForm(bound("identity")),
        "status": StatusForm(bound("status")),
        "extend": ExtendForm(bound("extend")),
    }
    if membership.role == StaffRole.DPO:
        found["assign"] = AssignForm(bound("assign"), handlers=access.handlers_for(membership))
    if case.type == RequestType.RECTIFICATION:
        found["rectify"] = RectifyForm(bound("rectify"), targets=_targets(case))
    if case.type in actions.LIMIT_KINDS and case.status not in CLOSED:
        found["limit"] = LimitForm(bound("limit"), objection=case.type == RequestType.OBJECTION)
    if actions.limits_of(case):
        found["lift"] = forms.Form(bound("lift"))
    if case.unsent_mail:
        found["resend"] = forms.Form(bound("resend"))
    return found


def _case_page(
    request: HttpRequest,
    membership: StaffMembership,
    case: RightsRequest,
    step_forms: dict,
    status: int = 200,
    *,
    link: LinkForm | None = None,
    people: list[dict] | None = None,
) -> HttpResponse:
    opened = gateway.read(request, record=case, fields=["details"], purpose=RIGHTS_REQUESTS.code)
    today = timezone.localdate()
    return render(
        request,
        "rights/staff/case.html",
        {
            "case": case,
            "details": opened["details"],
            "events": case.events.select_related("actor"),
            "forms": step_forms,
            "closed": case.status in CLOSED,
            "overdue": case.status not in CLOSED and case.due_date < today,
            "refusal_reason": actions.REFUSAL_REASONS.get(case.refusal_reason, ""),
            "extension_reason": actions.EXTENSION_REASONS.get(case.extension_reason, ""),
            "link": (link or LinkForm()) if actions.is_walk_in(case) and case.status not in CLOSED else None,
            "people": people,
            "limits": actions.limits_of(case),
        },
        status=status,
    )


@never_cache
@require_GET
@staff_mfa_required
def case(request: HttpRequest, request_id: str) -> HttpResponse:
    membership, found = access.staff_case(request, request_id)
    return _case_page(request, membership, found, _forms(membership, found))


def _assign(form: forms.Form, case: RightsRequest, membership: StaffMembership) -> None:
    actions.assign_request(request=case, officer=form.cleaned_data["officer"].user, actor=membership.user)


def _identity(form: forms.Form, case: RightsRequest, membership: StaffMembership) -> None:
    actions.verify_identity(request=case, method=form.cleaned_data["method"], actor=membership.user)


def _status(form: forms.Form, case: RightsRequest, membership: StaffMembership) -> None:
    status = form.cleaned_data["status"]
    if status == Status.COMPLETED and case.type == RequestType.ERASURE:
        actions.carry_out_erasure(request=case, actor=membership.user)
        return
    actions.set_status(
        request=case, status=status, actor=membership.user, refusal_reason=form.cleaned_data["refusal_reason"]
    )


def _extend(form: forms.Form, case: RightsRequest, membership: StaffMembership) -> None:
    actions.extend_due_date(
        request=case, days=form.cleaned_data["days"], reason=form.cleaned_data["reason"], actor=membership.user
    )


def _rectify(form: forms.Form, case: RightsRequest, membership: StaffMembership) -> None:
    assert isinstance(form, RectifyForm)
    store, row_id, field = form.chosen
    actions.apply_rectification(
        request=case, store=store, row_id=row_id, field=field, value=form.cleaned_data["value"], actor=membership.user
    )


def _limit(form: forms.Form, case: RightsRequest, membership: StaffMembership) -> None:
    actions.limit_processing(request=case, purposes=form.cleaned_data["purposes"], actor=membership.user)


def _lift(form: forms.Form, case: RightsRequest, membership: StaffMembership) -> None:
    actions.lift_restriction(request=case, actor=membership.user)


def _resend(form: forms.Form, case: RightsRequest, membership: StaffMembership) -> None:
    actions.resend_mail(request=case, actor=membership.user)


STEPS: dict[str, Callable[[forms.Form, RightsRequest, StaffMembership], None]] = {
    "assign": _assign,
    "identity": _identity,
    "status": _status,
    "extend": _extend,
    "rectify": _rectify,
    "limit": _limit,
    "lift": _lift,
    "resend": _resend,
}
# What may still be done on a closed case: send its unsent message, lift what it keeps in force.
AFTER_CLOSING = ("resend", "lift")


@never_cache
@require_POST
@staff_mfa_required
def case_step(request: HttpRequest, request_id: str, step: str) -> HttpResponse:
    membership, found = access.staff_case(request, request_id)
    step_forms = _forms(membership, found, request.POST, step)
    form = step_forms.get(step)
    if form is None or step not in STEPS or (found.status in CLOSED and step not in AFTER_CLOSING):
        # A step this case or this member of staff does not have (an officer never assigns; a closed
        # case only has its unsent message sent again).
        raise Http404
    if form.is_valid():
        try:
            STEPS[step](form, found, membership)
        except actions.CaseStepError as refused:
            form.add_error(None, _step_error(refused))
        else:
            return redirect("rights:case", request_id=found.id)
    return _case_page(request, membership, found, step_forms, status=400)


def _step_error(error: actions.CaseStepError) -> str:
    message = str(error)
    if "identity" in message:
        return translation.gettext("Verify the person's identity first.")
    return translation.gettext("This step does not fit the case in its present state.")


@never_cache
@require_http_methods(["GET", "POST"])
@staff_mfa_required
def walk_in(request: HttpRequest) -> HttpResponse:
    """A request made at the counter or on paper: the officer checks an identity document and files it."""
    membership = access.handler(request)
    form = WalkInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        filed = actions.file_walk_in_request(
            type=form.cleaned_data["type"],
            details=form.cleaned_data["details"],
            identity_method=form.cleaned_data["method"],
            contact_email=form.cleaned_data["contact_email"],
            actor=membership.user,
            language=translation.get_language() or "th",
        )
        return redirect("rights:case", request_id=filed.id)
    return render(request, "rights/staff/walk_in.html", {"form": form})


def _found(subject: Subject) -> dict:
    """What the officer sees of a person found: an opaque short ID, whether they have an account, how many
    records are held about them. No value: the match is the document the officer is holding."""
    plan = actions.plan_erasure(subject_id=subject.pk)
    return {
        "subject": subject,
        "short": str(subject.pk)[:8],
        "account": User.objects.filter(subject_id=subject.pk).exists(),
        "records": sum(plan.rows.values()),
    }


@never_cache
@require_POST
@staff_mfa_required
def link(request: HttpRequest, request_id: str) -> HttpResponse:
    """A paper request from a person already known: find them by the value on the document they showed
    (POSTed, exact match, audited), then link the case to the one chosen, found again by the same value."""
    membership, found = access.staff_case(request, request_id)
    form = LinkForm(request.POST)
    if not form.is_valid():
        return _case_page(request, membership, found, _forms(membership, found), status=400, link=form)
    try:
        people = actions.find_requester(
            request=found, membership=membership, kind=form.cleaned_data["kind"], value=form.cleaned_data["value"]
        )
    except actions.CaseStepError:
        raise Http404 from None
    chosen = form.cleaned_data["subject"]
    if chosen is None:
        return _case_page(
            request, membership, found, _forms(membership, found), link=form, people=[_found(p) for p in people]
        )
    person = next((p for p in people if p.pk == chosen), None)
    if person is None:
        raise Http404  # not among this agency's people with that value
    try:
        actions.link_request(request=found, subject=person, actor=membership.user)
    except actions.CaseStepError as refused:
        form.add_error(None, _step_error(refused))
        return _case_page(request, membership, found, _forms(membership, found), status=400, link=form)
    return redirect("rights:case", request_id=found.id)
