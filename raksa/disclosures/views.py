import uuid

from django.contrib import messages
from django.db.models import DateTimeField, Model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from raksa.accounts.mfa import require_staff_second_factor, staff_mfa_required
from raksa.core.templatetags.thai_dates import local_date
from raksa.disclosures import access, actions, ropa
from raksa.disclosures.forms import BasisChoice, BreachActionForm, BreachForm, DisclosureForm, PersonLookupForm
from raksa.disclosures.models import Breach, Disclosure, Recipient
from raksa.disclosures.pdf import as_pdf
from raksa.organisations.models import Agency
from raksa.registry import registry
from raksa.subjects.models import Subject

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
        "disclosures": Disclosure.objects.filter(agency=membership.agency)
        .select_related("recipient")
        .order_by("-disclosed_at")[:20],
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


def _transaction_label(row: Model) -> str:
    """A registration, question or request as the DPO can tell it apart: what it is, its reference or date."""
    when = next((getattr(row, f.name) for f in row._meta.fields if isinstance(f, DateTimeField)), None)
    parts = [str(row._meta.verbose_name).capitalize()]
    if service := getattr(row, "service", None):
        parts.append(str(service))
    if reference := getattr(row, "reference", ""):
        parts.append(reference)
    if when:
        parts.append(local_date(when))
    return " · ".join(parts)


def _person(subject: Subject, agency: Agency) -> dict:
    transactions = [(ref, _transaction_label(row)) for ref, row in actions.transactions_of(subject, agency)]
    return {"subject": subject, "short": str(subject.pk)[:8], "transactions": transactions}


def _basis(data: dict) -> actions.DisclosureBasis:
    if data["basis"] == BasisChoice.CONSENT:
        return actions.ConsentBasis()
    if data["basis"] == BasisChoice.REQUEST:
        return actions.RequestBasis(data["transaction"])
    return actions.LegalDuty(
        reference=data["legal_reference"],
        issuing_authority=data["issuing_authority"],
        order_date=data["order_date"],
        document=data["document"],
        document_name=data["document_name"],
        oia_section=data["oia_section"],
    )


@require_http_methods(["GET", "POST"])
@staff_mfa_required
def disclosure_new(request: HttpRequest) -> HttpResponse:
    """The DPO records a disclosure: find the person (by a value sent in the body), then the recipient and basis.

    Nothing personal travels in a URL: the look-up value and the chosen person's ID are POSTed.
    """
    membership = access.dpo_membership(request)
    agency = membership.agency
    step = request.POST.get("step", "")
    lookup = PersonLookupForm(request.POST if step == "find" else None)
    context: dict = {"agency": agency, "lookup": lookup, "people": None, "person": None, "form": None}
    status = 200
    if step == "find" and lookup.is_valid():
        found = actions.find_people(agency=agency, actor=request.user, **lookup.cleaned_data)
        context["people"] = [_person(subject, agency) for subject in found]
    elif step in ("choose", "disclose"):
        _membership, subject = access.agency_person(request, request.POST.get("subject", ""))
        person = _person(subject, agency)
        form = DisclosureForm(
            request.POST if step == "disclose" else None,
            request.FILES if step == "disclose" else None,
            agency=agency,
            transactions=person["transactions"],
            initial={"subject": subject.pk},
        )
        context |= {"person": person, "form": form}
        if step == "disclose" and form.is_valid():
            data = form.cleaned_data
            upload = request.FILES.get("document")
            data["document_name"] = (upload.name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1] if upload else ""
            try:
                disclosure = actions.disclose(
                    subject=subject,
                    recipient=data["recipient"],
                    purpose=data["purpose"],
                    fields=data["disclosed_fields"],
                    basis=_basis(data),
                    actor=request.user,
                    hold_until=data["hold_until"],
                )
            except actions.DisclosureRefusedError as refusal:
                context["refusal"] = str(refusal)
                status = 403
            else:
                messages.success(request, _("The disclosure is recorded in the person's ledger."))
                return redirect("disclosures:disclosure", disclosure_id=disclosure.pk)
        elif step == "disclose":
            status = 400
    return render(request, "disclosures/disclose.html", context, status=status)


@require_GET
@staff_mfa_required
def disclosure(request: HttpRequest, disclosure_id: str) -> HttpResponse:
    """One recorded disclosure of the DPO's agency: what, to whom, why, on what basis."""
    membership = access.dpo_membership(request)
    found = Disclosure.objects.filter(pk=_uuid_or_404(disclosure_id), agency=membership.agency).first()
    if found is None:
        raise Http404
    return render(request, "disclosures/disclosure.html", {"disclosure": found})


def _uuid_or_404(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Http404 from None


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
