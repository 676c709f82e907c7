from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from raksa.audit.tracker import describe, entries_about


@never_cache
@login_required
@require_GET
def my_access_log(request: HttpRequest) -> HttpResponse:
    subject_id = getattr(request.user, "subject_id", None)
    page = Paginator(entries_about(subject_id), 50).get_page(request.GET.get("page")) if subject_id else None
    looks = [describe(entry) for entry in page] if page else []
    return render(request, "audit/my_access_log.html", {"page": page, "looks": looks})
