"""The DPO's legal holds: list them with what each keeps, place one, end one (Thai and English, audited)."""

import uuid

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from raksa.accounts.mfa import staff_mfa_required
from raksa.consent.access import dpo_membership
from raksa.retention import actions, engine
from raksa.retention.forms import HoldForm
from raksa.retention.models import LegalHold


@require_http_methods(["GET", "POST"])
@staff_mfa_required
def holds(request: HttpRequest) -> HttpResponse:
    membership = dpo_membership(request)
    form = HoldForm(request.POST or None, agency=membership.agency)
    if request.method == "POST" and form.is_valid():
        actions.place_hold(staff=membership, **form.hold_arguments())
        return redirect("retention:holds")
    agency_holds = list(LegalHold.objects.filter(agency=membership.agency).select_related("service"))
    kept: dict[uuid.UUID, list[tuple[str, int]]] = {}
    for plan in engine.plan(now=timezone.now()):
        for held in plan.held:
            if held.hold.agency_id == membership.agency_id:
                kept.setdefault(held.hold.pk, []).append((plan.rule.label, held.rows))
    context = {
        "form": form,
        "agency": membership.agency,
        "in_force": [(hold, kept.get(hold.pk, [])) for hold in agency_holds if _in_force(hold)],
        "ended": [hold for hold in agency_holds if not _in_force(hold)],
    }
    return render(request, "retention/holds.html", context, status=400 if form.errors else 200)


def _in_force(hold: LegalHold) -> bool:
    return hold.ended_at is None and hold.ends_on >= timezone.localdate()


@require_POST
@staff_mfa_required
def end(request: HttpRequest, hold_id: uuid.UUID) -> HttpResponse:
    membership = dpo_membership(request)
    hold = LegalHold.objects.filter(pk=hold_id, agency=membership.agency, ended_at__isnull=True).first()
    if hold is None:
        raise Http404
    actions.end_hold(staff=membership, hold=hold)
    return redirect("retention:holds")
