from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from raksa.accounts.mfa import require_staff_second_factor, staff_mfa_required
from raksa.disclosures import access, actions, ropa
from raksa.disclosures.forms import BreachActionForm, BreachForm
from raksa.disclosures.models import Breach, Recipient
from raksa.disclosures.pdf import as_pdf
from raksa.registry import registry

LANGUAGES = ("th", "en")


@require_GET
@never_cache
def my_disclosures(request: HttpRequest) -> HttpResponse:
    """The person's own ledger: who received their data, when, why and on what basis (D1)."""
    subject = access.person(request)
    return render(request, "disclosures/mine.html", {"disclosure_ledger": actions.ledger_for(subject)})


@require_GET
@staff_mfa_required
def console(request: HttpRequest) -> HttpResponse:
    """The DPO's console: the recipients register, the breach register and the record of processing."""
    membership = access.dpo_membership(request)
    context = {
        "agency": membership.agency,
        "recipients": Recipient.objects.filter(agency=membership.agency),
        "breaches": Breach.objects.filter(agency=membership.agency),
        "rows": ropa.build(membership.agency),
        "items": ropa.ITEMS,
        "today": timezone.localdate(),
    }
    return render(request, "disclosures/console.html", context)


@require_GET
@staff_mfa_required
def ropa_download(request: HttpRequest, language: str, extension: str) -> HttpResponse:
    membership = access.dpo_membership(request)
    if language not in LANGUAGES or extension not in ("csv", "pdf"):
        raise Http404
    rows = ropa.build(membership.agency)
    agency = membership.agency
    name = f"ropa-{agency.slug}-{language}-{timezone.localdate().isoformat()}.{extension}"
    if extension == "csv":
        response = HttpResponse(ropa.as_csv(rows, language), content_type="text/csv; charset=utf-8")
    else:
        title = (
            f"Record of processing activities (PDPA s39): {agency.name_en}"
            if language == "en"
            else f"บันทึกรายการกิจกรรมการประมวลผลข้อมูลส่วนบุคคล (มาตรา 39): {agency.name_th}"
        )
        response = HttpResponse(
            as_pdf(rows, language=language, title=title, on=timezone.localdate()), content_type="application/pdf"
        )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_http_methods(["GET", "POST"])
@staff_mfa_required
def breach_new(request: HttpRequest) -> HttpResponse:
    membership = access.dpo_membership(request)
    form = BreachForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        breach = actions.record_breach(agency=membership.agency, actor=membership.user, **form.cleaned_data)
        return redirect("disclosures:breach", breach_id=breach.pk)
    return render(request, "disclosures/breach_new.html", {"form": form})


@require_http_methods(["GET", "POST"])
@staff_mfa_required
def breach(request: HttpRequest, breach_id: int) -> HttpResponse:
    membership, found = access.agency_breach(request, breach_id)
    form = BreachActionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        actions.add_breach_action(breach=found, actor=membership.user, **form.cleaned_data)
        return redirect("disclosures:breach", breach_id=found.pk)
    context = {
        "breach": found,
        "agency": membership.agency,
        "categories": [registry.category(code) for code in found.categories],
        "form": form,
    }
    return render(request, "disclosures/breach.html", context)


@require_GET
@staff_mfa_required
def processor_home(request: HttpRequest) -> HttpResponse:
    """A contractor's only page: the jobs their processor is contracted for, and nothing of anyone."""
    recipients = access.contractor_recipients(request)
    return render(request, "disclosures/processor.html", {"recipients": recipients, "today": timezone.localdate()})


@require_POST
@staff_mfa_required
def prepare_export(request: HttpRequest, slug: str) -> HttpResponse:
    recipient = access.contractor_recipient(request, slug)
    store = request.POST.get("store", "")
    try:
        export, token = actions.prepare_export(
            recipient=recipient,
            purpose=request.POST.get("purpose", ""),
            store=store,
            actor=require_staff_second_factor(request),
        )
    except (actions.ExportRefusedError, KeyError):
        messages.error(request, _("This export is not allowed: the contract does not cover it or has expired."))
        return redirect("disclosures:processor")
    # The token travels only in this page's form body, never in a URL, so no log can hold it.
    return render(request, "disclosures/export_ready.html", {"export": export, "token": token})


@require_POST
@staff_mfa_required
def download_export(request: HttpRequest) -> HttpResponse:
    access.contractor_recipients(request)
    try:
        export, content = actions.download_export(
            token=request.POST.get("token", ""), actor=require_staff_second_factor(request)
        )
    except actions.ExportRefusedError:
        raise Http404 from None
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="export-{export.pk}.csv"'
    response["Cache-Control"] = "no-store"
    return response
