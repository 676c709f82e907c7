"""The person's own pages: My data, the download, requests, corrections, closing the account."""

import html
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.formats import localize
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from raksa.accounts.reauth import recent_login_required
from raksa.consent.access import own_subject
from raksa.consent.models import Consent
from raksa.registry import registry
from raksa.rights import access, actions, exports, sections
from raksa.rights.corrections import correctable_values
from raksa.rights.export import assemble
from raksa.rights.forms import CloseAccountForm, ExportForm, RequestForm, SelfCorrectionForm
from raksa.rights.models import Export, ExportFormat, IdentityMethod, RequestType, RightsRequest
from raksa.subjects import limits
from raksa.vault.openers import Opener

# Rows of one store on My data at a time, newest first. A store grows with use (the access log has a
# row for every request the person made: about 225 after five minutes of browsing), and the page
# must stay quick and readable however long they have used the service; the download holds them all.
PAGE_ROWS = 50


def _pages(request: HttpRequest) -> dict[str, int]:
    """The one store paged further than its first rows (`?store=app.model&page=N`): a store's name
    and a number, never a person's data; the rows are the signed-in person's whatever they say."""
    store = request.GET.get("store")
    if store is None:
        return {}
    page = request.GET.get("page", "1")
    # ASCII digits only ("²" is a digit to isdigit), and few enough that the offset stays a database integer.
    if not (page.isascii() and page.isdecimal() and len(page) <= 7) or int(page) < 1:
        raise Http404
    if store not in {s.model.lower() for s in registry.stores()}:
        raise Http404
    return {store: int(page)}


def _store_pages_html(store: dict, page: int) -> str:
    """Where the rows shown sit among the store's total, where the rest are, and its other pages."""
    shown, total = len(store["rows"]), store["total"]
    first = (page - 1) * PAGE_ROWS
    if page == 1 and shown == total:
        return ""
    position = _("Rows %(first)s to %(last)s of %(total)s, newest first.") % {
        "first": localize(first + 1),
        "last": localize(first + shown),
        "total": localize(total),
    }
    rest = total - shown
    download = ngettext(
        "The other %(count)s row is in the download of your data:",
        "The other %(count)s rows are in the download of your data:",
        rest,
    ) % {"count": localize(rest)}
    links = [f'<a href="#download">{html.escape(_("prepare a download"))}</a>']
    url = reverse("rights:my_data")
    if page > 1:
        query = urlencode({"store": store["store"], "page": page - 1})
        links.append(f'<a href="{html.escape(f"{url}?{query}")}#rows">{html.escape(_("newer rows"))}</a>')
    if first + shown < total:
        query = urlencode({"store": store["store"], "page": page + 1})
        links.append(f'<a href="{html.escape(f"{url}?{query}")}#rows">{html.escape(_("older rows"))}</a>')
    return f"  <p>{html.escape(position)} {html.escape(download)} {' · '.join(links)}</p>\n"


def _stores_html(stores: list[dict], pages: dict[str, int]) -> SafeString:
    """The stores' rows as the page shows them, written here rather than by the template engine: the
    engine's per-value lookups, filters and escaping were most of the page's rendering time. The
    values are escaped as the template would (localised numbers, "—" for none); a field's name and
    classes, the same on every row, are written once. A store with more rows than a page shows its
    first `PAGE_ROWS` (newest first), its total and where the rest are."""
    erased = html.escape(_("erased"))
    nothing = html.escape(_("Nothing held."))
    around: dict[tuple[str, str, str, str], tuple[str, str]] = {}
    parts = []
    for store in stores:
        page = pages.get(store["store"], 1)
        anchor = ' id="rows"' if store["store"] in pages else ""
        parts.append(
            f'<section data-store="{html.escape(store["store"])}"{anchor}>\n  <h2>{html.escape(store["label"])}</h2>\n'
        )
        parts.append(_store_pages_html(store, page))
        for row in store["rows"]:
            parts.append("  <dl>\n")
            for name, field in row["fields"].items():
                key = (name, field["category"], field["legal_basis"], field["retention"])
                if key not in around:
                    classes = "; ".join(html.escape(code) for code in key[1:])
                    around[key] = (
                        f"    <dt>{html.escape(name)}</dt>\n    <dd>",
                        f"\n      <small>({classes})</small></dd>\n",
                    )
                before, after = around[key]
                value = field["value"]
                if field["erased"]:
                    shown = erased
                elif value is None:
                    shown = "—"
                else:
                    shown = html.escape(value if isinstance(value, str) else localize(value))
                parts.append(before + shown + after)
            parts.append("  </dl>\n")
        if not store["total"]:
            parts.append(f"  <p>{nothing}</p>\n")
        parts.append("</section>\n")
    return mark_safe("".join(parts))  # noqa: S308 (every value escaped above)  # nosec B308, B703


def _origin(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


def _language() -> str:
    return translation.get_language() or "th"


@never_cache
@login_required
@require_GET
def my_data(request: HttpRequest) -> HttpResponse:
    subject = own_subject(request)
    pages = _pages(request)
    data = assemble(subject.id, opener=Opener.for_subject(subject.id), page_rows=PAGE_ROWS, pages=pages)
    if any(store["store"] in pages and not store["rows"] for store in data["stores"]):
        raise Http404  # a page past the store's last
    requests = RightsRequest.objects.filter(subject=subject).order_by("-received_at")
    recent = Export.objects.filter(subject=subject).order_by("-created_at")[:5]
    return render(
        request,
        "rights/my_data.html",
        {
            "data": data,
            "stores": _stores_html(data["stores"], pages),
            "requests": requests,
            "exports": recent,
            "export_form": ExportForm(),
            "sections": sections.render_sections(request, subject),
            "limits": list(limits.in_force(subject.id)),
        },
    )


@never_cache
@login_required
@recent_login_required
@require_http_methods(["POST"])
def request_export(request: HttpRequest) -> HttpResponse:
    form = ExportForm(request.POST)
    if not form.is_valid():
        return redirect("rights:my_data")
    export = exports.request_export(
        subject=own_subject(request),
        format=form.cleaned_data["format"],
        language=_language(),
        actor=request.user,
    )
    return redirect("rights:export", export_id=export.id)


@never_cache
@login_required
@require_GET
def export_status(request: HttpRequest, export_id: str) -> HttpResponse:
    export = access.own_export(request, export_id)
    token = exports.issue_link_token(export=export)
    return render(request, "rights/export_status.html", {"export": export, "token": token})


@never_cache
@login_required
@require_GET
def export_download(request: HttpRequest, export_id: str, token: str) -> HttpResponse:
    export = access.own_export(request, export_id)
    content = exports.take_download(export=export, token=token, actor=request.user)
    if content is None:
        return render(request, "rights/export_gone.html", {"export": export}, status=410)
    response = HttpResponse(content, content_type=exports.CONTENT_TYPES[ExportFormat(export.format)])
    response["Content-Disposition"] = f'attachment; filename="raksa-my-data.{export.format}"'
    return response


@never_cache
@login_required
@recent_login_required
@require_http_methods(["GET", "POST"])
def new_request(request: HttpRequest) -> HttpResponse:
    """Filed with the password just given again: that is the account holder's proof of identity (R1)."""
    subject = own_subject(request)
    consents = list(Consent.objects.filter(subject=subject, granted=True).select_related("agency"))
    form = RequestForm(request.POST or None, consents=consents, initial={"type": request.GET.get("type")})
    if request.method == "POST" and form.is_valid():
        user = access.account(request)
        if form.cleaned_data["type"] == RequestType.CONSENT_WITHDRAWAL:
            consent = form.chosen_consent
            filed = actions.withdraw_consent_by_request(
                subject=subject,
                agency=consent.agency,
                purpose=consent.purpose,
                actor=user,
                language=_language(),
                origin=_origin(request),
            )
        else:
            filed = actions.file_request(
                subject=subject,
                type=form.cleaned_data["type"],
                details=form.cleaned_data["details"],
                actor=user,
                language=_language(),
                origin=_origin(request),
                identity_method=IdentityMethod.REAUTHENTICATION,
            )
        return redirect("rights:request", request_id=filed.id)
    return render(request, "rights/new_request.html", {"form": form})


@never_cache
@login_required
@require_GET
def request_detail(request: HttpRequest, request_id: str) -> HttpResponse:
    case = access.own_request(request, request_id)
    details = Opener.for_subject(case.subject_id).open(case.details)
    return render(
        request,
        "rights/request.html",
        {
            "case": case,
            "details": details,
            "events": case.events.all(),
            "refusal_reason": actions.REFUSAL_REASONS.get(case.refusal_reason, ""),
            "extension_reason": actions.EXTENSION_REASONS.get(case.extension_reason, ""),
            "limits": actions.limits_of(case),
        },
    )


@never_cache
@login_required
@require_GET
def erasure_preview(request: HttpRequest) -> HttpResponse:
    plan = actions.plan_erasure(subject_id=own_subject(request).id)
    return render(request, "rights/erasure_preview.html", {"plan": plan})


@never_cache
@login_required
@recent_login_required
@require_http_methods(["GET", "POST"])
def close_account(request: HttpRequest) -> HttpResponse:
    """Closing the account is an erasure request (PDPA s33): the dry run first, then a confirmation."""
    subject = own_subject(request)
    form = CloseAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        actions.close_account(user=access.account(request), language=_language(), origin=_origin(request))
        logout(request)  # the account's sessions are already ended on the server; this clears the cookie's
        return render(request, "rights/account_closed.html")
    plan = actions.plan_erasure(subject_id=subject.id)
    return render(request, "rights/close_account.html", {"form": form, "plan": plan})


@never_cache
@sensitive_post_parameters()
@login_required
@require_http_methods(["GET", "POST"])
def correct(request: HttpRequest) -> HttpResponse:
    """Direct corrections of contact details (R3, PDPA s36), audited; anything else is a rectification request."""
    subject = own_subject(request)
    form = SelfCorrectionForm(request.POST or None, values=correctable_values(subject.id))
    if request.method == "POST" and form.is_valid():
        count = actions.correct_own_data(subject=subject, changes=form.changes(), actor=access.account(request))
        messages.success(request, _("Saved.") if count else _("Nothing was changed."))
        return redirect("rights:correct")
    return render(request, "rights/correct.html", {"form": form})
