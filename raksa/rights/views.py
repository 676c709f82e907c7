from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from raksa.accounts.models import User
from raksa.rights import actions, exports
from raksa.rights.export import assemble
from raksa.rights.models import Export, ExportFormat, RequestType, RightsRequest
from raksa.subjects.models import Subject
from raksa.vault.openers import Opener


def _account(request: HttpRequest) -> User:
    assert isinstance(request.user, User), "login_required comes first"
    return request.user


def _subject(request: HttpRequest) -> Subject:
    subject = _account(request).subject
    if subject is None:
        raise Http404
    return subject


def own_request(request: HttpRequest, request_id: str) -> RightsRequest:
    """The one access check for a rights request: the person's own, or not found."""
    try:
        return RightsRequest.objects.get(pk=request_id, subject=_subject(request))
    except (RightsRequest.DoesNotExist, ValueError, forms.ValidationError) as missing:
        raise Http404 from missing


class ExportForm(forms.Form):
    format = forms.ChoiceField(label=_("Format"), choices=ExportFormat.choices)


class RequestForm(forms.Form):
    type = forms.ChoiceField(label=_("What do you ask for?"), choices=RequestType.choices)
    details = forms.CharField(label=_("Details"), widget=forms.Textarea, required=False, max_length=4000)


@never_cache
@login_required
@require_GET
def my_data(request: HttpRequest) -> HttpResponse:
    subject = _subject(request)
    data = assemble(subject.id, opener=Opener.for_subject(subject.id))
    requests = RightsRequest.objects.filter(subject=subject).order_by("-received_at")
    recent = Export.objects.filter(subject=subject).order_by("-created_at")[:5]
    return render(
        request,
        "rights/my_data.html",
        {"data": data, "requests": requests, "exports": recent, "export_form": ExportForm()},
    )


@never_cache
@login_required
@require_http_methods(["POST"])
def request_export(request: HttpRequest) -> HttpResponse:
    form = ExportForm(request.POST)
    if not form.is_valid():
        return redirect("rights:my_data")
    export = exports.request_export(
        subject=_subject(request),
        format=form.cleaned_data["format"],
        language=translation.get_language() or "th",
        actor=request.user,
    )
    return redirect("rights:export", export_id=export.id)


def own_export(request: HttpRequest, export_id: str) -> Export:
    """The one access check for an export: the person's own, or not found."""
    try:
        return Export.objects.get(pk=export_id, subject=_subject(request))
    except (Export.DoesNotExist, ValueError, forms.ValidationError) as missing:
        raise Http404 from missing


@never_cache
@login_required
@require_GET
def export_status(request: HttpRequest, export_id: str) -> HttpResponse:
    export = own_export(request, export_id)
    token = exports.issue_link_token(export=export)
    return render(request, "rights/export_status.html", {"export": export, "token": token})


@never_cache
@login_required
@require_GET
def export_download(request: HttpRequest, export_id: str, token: str) -> HttpResponse:
    export = own_export(request, export_id)
    content = exports.take_download(export=export, token=token, actor=request.user)
    if content is None:
        return render(request, "rights/export_gone.html", {"export": export}, status=410)
    response = HttpResponse(content, content_type=exports.CONTENT_TYPES[ExportFormat(export.format)])
    response["Content-Disposition"] = f'attachment; filename="raksa-my-data.{export.format}"'
    return response


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def new_request(request: HttpRequest) -> HttpResponse:
    subject = _subject(request)
    form = RequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        filed = actions.file_request(
            subject=subject,
            type=form.cleaned_data["type"],
            details=form.cleaned_data["details"],
            actor=_account(request),
        )
        return redirect("rights:request", request_id=filed.id)
    return render(request, "rights/new_request.html", {"form": form})


@never_cache
@login_required
@require_GET
def request_detail(request: HttpRequest, request_id: str) -> HttpResponse:
    case = own_request(request, request_id)
    details = Opener.for_subject(case.subject_id).open(case.details)
    return render(request, "rights/request.html", {"case": case, "details": details, "events": case.events.all()})


@never_cache
@login_required
@require_GET
def erasure_preview(request: HttpRequest) -> HttpResponse:
    plan = actions.plan_erasure(subject_id=_subject(request).id)
    return render(request, "rights/erasure_preview.html", {"plan": plan})
