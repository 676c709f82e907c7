import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from raksa.accesslog import actions, stats
from raksa.accesslog.forms import HoldForm, RangeForm, SearchForm
from raksa.accesslog.models import LegalHold
from raksa.organisations.models import StaffMembership, StaffRole

DEFAULT_RANGE_DAYS = 30
STATISTICS_ROLES = (StaffRole.DPO, StaffRole.ADMINISTRATOR, StaffRole.AUDITOR)
INVESTIGATION_ROLES = (StaffRole.INVESTIGATOR,)


def staff_with_role(request: HttpRequest, roles: tuple[str, ...]) -> StaffMembership:
    """The one access check of the access log's pages: anyone else gets a plain 404.

    Staff who have not passed their second factor in this session are "anyone else" too (S2).
    """
    if not request.user.is_authenticated or not import_string(settings.RAKSA_STAFF_SECOND_FACTOR_CHECK)(request):
        raise Http404
    membership = StaffMembership.objects.filter(user_id=request.user.pk, role__in=roles).first()
    if membership is None:
        raise Http404
    return membership


@never_cache
@require_http_methods(["GET", "HEAD"])
def dashboard(request: HttpRequest) -> HttpResponse:
    staff_with_role(request, STATISTICS_ROLES)
    today = actions.local_today()
    initial = {"start": today - datetime.timedelta(days=DEFAULT_RANGE_DAYS - 1), "end": today}
    form = RangeForm(request.GET if "start" in request.GET else initial)
    start, end = (form.cleaned_data["start"], form.cleaned_data["end"]) if form.is_valid() else initial.values()
    result = stats.statistics(start, end)
    if request.GET.get("format") == "csv":
        response = HttpResponse(stats.as_csv(result), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="raksa-statistics-{start}-{end}.csv"'
        return response
    return render(
        request,
        "accesslog/dashboard.html",
        {
            "form": form,
            "stats": result,
            "chart_width": stats.CHART_WIDTH,
            "chart_height": stats.CHART_HEIGHT,
            "keep": actions.COMPACT_KEEP,
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def investigate(request: HttpRequest) -> HttpResponse:
    # POST only: what an investigator searches for (an IP, an account) never goes into an address.
    staff = staff_with_role(request, INVESTIGATION_ROLES)
    form = SearchForm(request.POST or None)
    results = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        subject_id = None
        if data["account"]:
            account = get_user_model().objects.filter(username=data["account"]).first()
            if account is None or account.subject_id is None:
                form.add_error("account", _("No account has this user ID."))
            subject_id = account.subject_id if account else None
        if not form.errors:
            results = actions.search_records(
                actor=request.user,
                role=staff.role,
                agency_id=staff.agency_id,
                purpose=data["purpose"],
                case_reference=data["case_reference"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                ip=data["ip"] or "",
                path_prefix=data["path"],
                subject_id=subject_id,
            )
    holds = LegalHold.objects.filter(released_at__isnull=True).order_by("starts_at")
    return render(
        request,
        "accesslog/investigate.html",
        {
            "form": form,
            "results": results,
            "limit": actions.SEARCH_LIMIT,
            "raw_days": settings.RAKSA_ACCESSLOG_RAW_DAYS,
            "hold_form": HoldForm(prefix="hold"),
            "holds": holds,
        },
    )


@require_POST
def place_hold(request: HttpRequest) -> HttpResponse:
    staff = staff_with_role(request, INVESTIGATION_ROLES)
    form = HoldForm(request.POST, prefix="hold")
    if form.is_valid():
        actions.place_legal_hold(
            actor=request.user,
            role=staff.role,
            agency_id=staff.agency_id,
            starts_at=form.cleaned_data["starts_at"],
            ends_at=form.cleaned_data["ends_at"],
            case_reference=form.cleaned_data["case_reference"],
        )
        return redirect("accesslog:investigate")
    holds = LegalHold.objects.filter(released_at__isnull=True).order_by("starts_at")
    return render(
        request,
        "accesslog/investigate.html",
        {"form": SearchForm(), "results": None, "hold_form": form, "holds": holds},
        status=400,
    )


@require_POST
def release_hold(request: HttpRequest, hold_id: str) -> HttpResponse:
    staff = staff_with_role(request, INVESTIGATION_ROLES)
    hold = get_object_or_404(LegalHold, pk=hold_id, released_at__isnull=True)
    actions.release_legal_hold(hold=hold, actor=request.user, role=staff.role, agency_id=staff.agency_id)
    return redirect("accesslog:investigate")
