import smtplib
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import slugify
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from raksa import registry
from raksa.accounts.mfa import staff_mfa_required
from raksa.audit import gateway
from raksa.consent import access, actions, policies, recipients
from raksa.consent.cookies import (
    CATEGORY_DESCRIPTIONS,
    CATEGORY_LABELS,
    CHOICE_COOKIE,
    CHOICE_MAX_AGE,
    OPTIONAL_CATEGORIES,
    POLICY_SEEN_COOKIE,
    CookieCategory,
    browser_refuses,
    choice_of,
    registered_cookies,
)
from raksa.consent.forms import (
    AgeGroup,
    ConsentGrantForm,
    ConsentWithdrawForm,
    CookieChoiceForm,
    DiffForm,
    InquiryAnswerForm,
    InquiryForm,
    MailingForm,
    PolicyDraftForm,
)
from raksa.consent.models import (
    AcceptanceKind,
    Channel,
    Consent,
    ConsentEvent,
    Inquiry,
    InquiryStatus,
    Mailing,
    PolicyStatus,
    PolicyVersion,
)
from raksa.consent.policy import INQUIRY_FIELDS
from raksa.consent.purposes import BY_EMAIL, consent_purposes
from raksa.consent.purposes import description as describe_purpose
from raksa.consent.recipients import ConsentRecipient
from raksa.consent.rendering import diff_lines, render_markdown
from raksa.core.caching import forget, published
from raksa.organisations.models import Agency, Controller
from raksa.registry import RIGHTS_REQUESTS, Purpose
from raksa.subjects.models import Subject


def same_origin(request: HttpRequest) -> bool:
    """The Origin (or, failing that, Referer) check that protects the few POSTs that set no CSRF cookie.

    The cookie banner sits on every page; a CSRF token there would set a cookie on the first visit,
    before the visitor has chosen anything, so these forms prove their origin this way instead.
    """
    source = request.headers.get("Origin") or request.headers.get("Referer") or ""
    parts = urlsplit(source)
    return bool(parts.netloc) and parts.netloc == request.get_host() and parts.scheme == request.scheme


def _next_url(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


# Cookies (K1) ----------------------------------------------------------------------------------------
def _cookie_context(request: HttpRequest) -> dict:
    english = get_language() == "en"
    categories = [
        {
            "code": category.value,
            "label": CATEGORY_LABELS[category][1 if english else 0],
            "description": CATEGORY_DESCRIPTIONS[category][1 if english else 0],
            "cookies": [cookie for cookie in registered_cookies() if cookie.category is category],
            "optional": category in OPTIONAL_CATEGORIES,
            "allowed": request.cookie_choice.allows(category),  # type: ignore[attr-defined]
        }
        for category in CookieCategory
    ]
    return {"categories": categories, "signal": browser_refuses(request)}


@csrf_exempt
@require_http_methods(["GET", "POST"])
def cookies(request: HttpRequest) -> HttpResponse:
    """The cookie page, generated from the registry, and where every cookie choice is posted."""
    if request.method == "GET":
        return render(request, "consent/cookies.html", _cookie_context(request))
    if not same_origin(request):
        return HttpResponseForbidden(_("This form must be sent from this site."))
    form = CookieChoiceForm(request.POST)
    if not form.is_valid():
        return render(request, "consent/cookies.html", _cookie_context(request), status=400)
    decision = form.cleaned_data["choice"]
    if decision == "accept":
        allowed = set(OPTIONAL_CATEGORIES)
    elif decision == "refuse":
        allowed = set()
    else:
        allowed = {category for category in OPTIONAL_CATEGORIES if form.cleaned_data[category.value]}
    choice = choice_of(allowed)
    response = HttpResponseRedirect(_next_url(request, reverse("consent:cookies")))
    response.set_cookie(
        CHOICE_COOKIE,
        choice.serialise(),
        max_age=CHOICE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    response.cookie_choice = choice  # type: ignore[attr-defined]
    messages.success(request, _("Your cookie choice is saved. You can change it from the foot of every page."))
    return response


# The policy (V1) -------------------------------------------------------------------------------------
def _remember_policy_seen(response: HttpResponse, version: PolicyVersion) -> None:
    """A preferences cookie: the gate drops it unless the visitor allowed preferences."""
    response.set_cookie(
        POLICY_SEEN_COOKIE,
        str(version.number),
        max_age=CHOICE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )


def _policy_page(request: HttpRequest, agency: Agency | None, version: PolicyVersion | None) -> HttpResponse:
    current = policies.current_policy(agency)
    context = {
        "agency": agency,
        "scope": access.scope_of(agency),
        "version": version,
        "is_current": version is not None and current is not None and version.pk == current.pk,
        "current": current,
        "versions": policies.published_versions(agency),
        "agencies": Agency.objects.filter(policy_versions__status=PolicyStatus.PUBLISHED).distinct()
        if agency is None
        else None,
    }
    response = render(request, "consent/policy.html", context)
    if agency is None and current is not None and version is not None and version.pk == current.pk:
        # Having read the platform policy in force, the visitor needs no notice of its changes.
        _remember_policy_seen(response, current)
    return response


@require_GET
def privacy_policy(request: HttpRequest) -> HttpResponse:
    return _policy_page(request, None, policies.current_platform_policy())


@require_GET
def agency_policy(request: HttpRequest, scope: str) -> HttpResponse:
    agency = access.policy_scope(scope)
    return _policy_page(request, agency, policies.current_policy(agency))


@require_GET
def policy_version(request: HttpRequest, scope: str, number: int) -> HttpResponse:
    agency = access.policy_scope(scope)
    return _policy_page(request, agency, access.published_version(agency, number))


@require_GET
def policy_diff(request: HttpRequest, scope: str) -> HttpResponse:
    agency = access.policy_scope(scope)
    form = DiffForm(request.GET)
    if not form.is_valid():
        return redirect("consent:agency_policy", scope=scope)
    old = access.published_version(agency, form.cleaned_data["old"])
    new = access.published_version(agency, form.cleaned_data["new"])
    context = {
        "agency": agency,
        "scope": access.scope_of(agency),
        "old": old,
        "new": new,
        "lines": diff_lines(old.markdown, new.markdown),
        "versions": policies.published_versions(agency),
    }
    return render(request, "consent/policy_diff.html", context)


@csrf_exempt
@require_POST
def read_changes(request: HttpRequest) -> HttpResponse:
    """ "I have read the changes": recorded for a logged-in person, remembered by a cookie if allowed."""
    if not same_origin(request):
        return HttpResponseForbidden(_("This form must be sent from this site."))
    current = policies.current_platform_policy()
    response = HttpResponseRedirect(_next_url(request, reverse("core:home")))
    if current is None:
        return response
    subject = getattr(request.user, "subject", None) if request.user.is_authenticated else None
    if subject is not None:
        actions.accept_policy(subject=subject, version=current, channel=Channel.WEB, kind=AcceptanceKind.READ_CHANGES)
    _remember_policy_seen(response, current)
    return response


# The DPO's policy console ----------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@staff_mfa_required
def policy_draft(request: HttpRequest, scope: str) -> HttpResponse:
    agency = access.dpo_for_scope(request, scope)
    # Reading the page writes nothing: an unsaved draft starts from the text in force.
    draft = policies.open_draft(agency) or policies.new_draft(agency)
    form = PolicyDraftForm(request.POST or None, instance=draft)
    if request.method == "POST" and form.is_valid():
        draft = actions.start_policy_draft(agency=agency, actor=request.user)
        draft = actions.save_policy_draft(version=draft, actor=request.user, **form.cleaned_data)
        if "publish" in request.POST:
            published = actions.publish_policy_version(version=draft, actor=request.user)
            messages.success(request, _("Version %(number)s is published.") % {"number": published.number})
            return redirect("consent:policy_version", scope=scope, number=published.number)
        messages.success(request, _("The draft is saved."))
        return redirect("consent:policy_draft", scope=scope)
    items = policies.processing_for(agency)
    language = get_language() or "th"
    introduction = draft.introduction_en if language == "en" else draft.introduction_th
    context = {
        "form": form,
        "draft": draft,
        "agency": agency,
        "scope": scope,
        "pending": policies.pending_changes(agency),
        "current": policies.current_policy(agency),
        "preview": render_markdown(policies.generate_markdown(agency, introduction, language, items)),
    }
    return render(request, "consent/policy_draft.html", context)


# Consents (PDPA s19, s20) ----------------------------------------------------------------------------
def _anchor(agency: Agency, purpose: str, recipient: str = "") -> str:
    """The HTML id and form prefix of one choice: "minburi-news_and_pr", "minburi-contact-disclosuresrecipient3"."""
    return f"{agency.slug}-{purpose}" + (f"-{slugify(recipient)}" if recipient else "")


def _consent_row(
    agency: Agency,
    purpose: Purpose,
    state: Consent | None,
    history: list[ConsentEvent],
    forms_by_anchor: dict[str, ConsentGrantForm],
    recipient: ConsentRecipient | None = None,
) -> dict:
    language = get_language() or "th"
    key = recipient.key if recipient else ""
    anchor = _anchor(agency, purpose.code, key)
    label = purpose.label_en if language == "en" else purpose.label_th
    return {
        "anchor": anchor,
        "purpose": purpose,
        "recipient": recipient,
        "label": label,
        "description": describe_purpose(purpose, language) if recipient is None else "",
        "categories": [registry.category(code).label for code in recipient.categories] if recipient else [],
        "granted": bool(state and state.granted),
        # A consent to a recipient covers what the person was shown then; what it receives beyond that
        # since needs a new consent, offered next to the withdrawal.
        "covers": state.category_labels if recipient and state and state.granted else [],
        "wider": [registry.category(code).label for code in recipient.categories if code not in state.categories]
        if recipient and state and state.granted
        else [],
        "history": history,
        "form": forms_by_anchor.get(anchor)
        or ConsentGrantForm(
            initial={"purpose": purpose.code, "agency": agency.slug},
            needs_email=purpose.code in BY_EMAIL and recipient is None,
            prefix=anchor,
        ),
    }


def _offers(agency: Agency) -> tuple[list[Purpose], list[ConsentRecipient]]:
    """What the page offers a person at this agency: its configuration, the same for everyone (each
    agency's services and recipients cost queries of their own), so kept as long as public pages are
    and changed on every page at once. What a posted choice names is checked live (`_chosen`)."""
    codes, offered = published(
        _offers_key(agency),
        lambda: ([purpose.code for purpose in consent_purposes(agency)], recipients.recipients_for(agency)),
    )
    return [registry.purpose(code) for code in codes], offered


def _offers_key(agency: Agency) -> str:
    return f"consent:offers:{agency.pk}"


def _consent_blocks(subject: Subject, forms_by_anchor: dict[str, ConsentGrantForm] | None = None) -> list:
    """Per agency: its own consent purposes, then each recipient a person may consent to, per purpose."""
    forms_by_anchor = forms_by_anchor or {}
    states = {(c.agency_id, c.purpose, c.recipient): c for c in Consent.objects.filter(subject=subject)}
    events = ConsentEvent.objects.filter(consent__subject=subject).select_related("consent", "policy_version")
    history: dict[tuple[int, str, str], list[ConsentEvent]] = {}
    for event in events:
        history.setdefault((event.consent.agency_id, event.consent.purpose, event.consent.recipient), []).append(event)
    blocks = []
    for agency in Agency.objects.select_related("controller"):
        purposes, offered = _offers(agency)
        rows = [
            _consent_row(agency, purpose, states.get(key), history.get(key, []), forms_by_anchor)
            for purpose in purposes
            for key in [(agency.pk, purpose.code, "")]
        ]
        disclosures = [
            _consent_row(agency, purpose, states.get(key), history.get(key, []), forms_by_anchor, recipient)
            for recipient in offered
            for purpose in map(registry.purpose, recipient.purposes)
            for key in [(agency.pk, purpose.code, recipient.key)]
        ]
        blocks.append({"agency": agency, "rows": rows, "disclosures": disclosures})
    return blocks


@require_GET
def consents(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "consent/consents.html", {"blocks": None})
    subject = access.own_subject(request)
    return render(request, "consent/consents.html", {"blocks": _consent_blocks(subject)})


def _chosen(request: HttpRequest) -> tuple[Agency, str, str]:
    """The agency, purpose and recipient a consent form names; 404 unless a person may consent to them."""
    agency = access.policy_scope(request.POST.get("agency", ""))
    purpose = request.POST.get("purpose", "")
    recipient = request.POST.get("recipient", "")
    if agency is None:
        raise Http404
    if recipient:
        if recipients.offered(agency, recipient, purpose) is None:
            raise Http404
    elif purpose not in {p.code for p in consent_purposes(agency)}:
        raise Http404
    return agency, purpose, recipient


@require_POST
def grant(request: HttpRequest) -> HttpResponse:
    subject = access.own_subject(request)
    agency, purpose, recipient = _chosen(request)
    anchor = _anchor(agency, purpose, recipient)
    form = ConsentGrantForm(request.POST, needs_email=purpose in BY_EMAIL and not recipient, prefix=anchor)
    if not form.is_valid():
        blocks = _consent_blocks(subject, {anchor: form})
        return render(request, "consent/consents.html", {"blocks": blocks}, status=400)
    try:
        actions.grant_consent(
            subject=subject,
            agency=agency,
            purpose=purpose,
            recipient=recipient,
            # The categories the page showed, carried by the form: its offers may be older than the register.
            shown=[code for code in request.POST.get("categories", "").split(",") if code] if recipient else None,
            channel=Channel.WEB,
            minor=form.cleaned_data["age_group"] == AgeGroup.MINOR,
            guardian_consents=form.cleaned_data["guardian_consents"],
            email=form.cleaned_data.get("email", ""),
            actor=request.user,
        )
    except actions.ConsentOutdatedError:
        # Nothing is saved; the page is shown again with this agency's offers read afresh and the
        # person's answers kept, so they consent only to what they have now been shown.
        forget(_offers_key(agency))
        form.add_error(
            None,
            _(
                "What this recipient would receive has changed since the page was shown to you. Please read "
                "the list again below and choose again: your consent is not recorded."
            ),
        )
        blocks = _consent_blocks(subject, {anchor: form})
        return render(request, "consent/consents.html", {"blocks": blocks}, status=409)
    messages.success(request, _("Your consent is recorded. You can withdraw it here at any time."))
    return redirect(f"{reverse('consent:consents')}#{anchor}")


@require_POST
def withdraw(request: HttpRequest) -> HttpResponse:
    subject = access.own_subject(request)
    form = ConsentWithdrawForm(request.POST)
    if not form.is_valid():
        raise Http404
    agency = access.policy_scope(form.cleaned_data["agency"])
    recipient = form.cleaned_data["recipient"]
    consent = Consent.objects.filter(
        subject=subject, agency=agency, purpose=form.cleaned_data["purpose"], recipient=recipient
    ).first()
    if consent is None or agency is None:
        raise Http404
    actions.withdraw_consent(
        subject=subject,
        agency=agency,
        purpose=consent.purpose,
        recipient=recipient,
        channel=Channel.WEB,
        actor=request.user,
    )
    messages.success(request, _("Your consent is withdrawn. It took effect at once."))
    return redirect(f"{reverse('consent:consents')}#{_anchor(agency, consent.purpose, recipient)}")


# Contact (V2, V3) ------------------------------------------------------------------------------------
@csrf_exempt
@require_POST
def email(request: HttpRequest) -> HttpResponse:
    """Shows a published address once a person presses the button: never in a page's source (V3).

    A POST, so link-following robots never reach it; a plain form, so it needs no JavaScript and
    works with a keyboard and a screen reader. It changes nothing, so it carries no CSRF token (which
    would set a cookie on the contact page) and checks its origin instead.
    """
    if not same_origin(request):
        return HttpResponseForbidden(_("This form must be sent from this site."))
    kind, _sep, slug = request.POST.get("organisation", "").partition(":")
    organisation: Agency | Controller | None = None
    if kind == "agency":
        organisation = Agency.objects.filter(slug=slug).first()
    elif kind == "controller":
        organisation = Controller.objects.filter(slug=slug).first()
    field = {"contact": "contact_email", "dpo": "dpo_email"}.get(request.POST.get("kind", ""))
    address = getattr(organisation, field, "") if organisation and field else ""
    if not address:
        raise Http404
    label = _("E-mail") if field == "contact_email" else _("Data protection officer's e-mail")
    response = render(request, "consent/email.html", {"organisation": organisation, "address": address, "label": label})
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_http_methods(["GET", "POST"])
def ask(request: HttpRequest) -> HttpResponse:
    """Questions, suggestions and complaints about the policy, to an agency's DPO (V2)."""
    initial = {"agency": request.GET.get("agency")} if request.GET.get("agency") else {}
    form = InquiryForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        subject = getattr(request.user, "subject", None) if request.user.is_authenticated else None
        inquiry = actions.submit_inquiry(
            agency=form.cleaned_data["agency"],
            kind=form.cleaned_data["kind"],
            name=form.cleaned_data["name"],
            email=form.cleaned_data["email"],
            message=form.cleaned_data["message"],
            subject=subject,
            language=get_language() or "th",
        )
        return render(request, "consent/ask_received.html", {"inquiry": inquiry})
    return render(request, "consent/ask.html", {"form": form}, status=400 if form.errors else 200)


@require_GET
@staff_mfa_required
def inquiries(request: HttpRequest) -> HttpResponse:
    """The DPO's queue: references, kinds and dates only; the content opens one inquiry at a time."""
    membership = access.dpo_membership(request)
    queue = Inquiry.objects.filter(agency=membership.agency).order_by("status", "received_at")
    return render(request, "consent/inquiries.html", {"inquiries": queue, "agency": membership.agency})


@require_http_methods(["GET", "POST"])
@staff_mfa_required
def inquiry(request: HttpRequest, reference: str) -> HttpResponse:
    """One question: the DPO reads it through the gateway (audited) and answers it by e-mail (V2)."""
    _membership, found = access.agency_inquiry(request, reference)
    form = InquiryAnswerForm(request.POST or None)
    mail_failed = False
    if request.method == "POST" and form.is_valid() and found.status == InquiryStatus.RECEIVED:
        try:
            actions.answer_inquiry(inquiry=found, answer=form.cleaned_data["answer"], actor=request.user)
        except (OSError, smtplib.SMTPException):
            mail_failed = True
        else:
            messages.success(request, _("The answer is sent by e-mail and the question is closed."))
            return redirect("consent:inquiry", reference=found.reference)
    opened = gateway.read(request, record=found, fields=sorted(INQUIRY_FIELDS), purpose=RIGHTS_REQUESTS.code)
    context = {"inquiry": found, "opened": opened, "form": form, "mail_failed": mail_failed}
    return render(request, "consent/inquiry.html", context, status=400 if form.errors or mail_failed else 200)


@require_http_methods(["GET", "POST"])
@staff_mfa_required
def mailings(request: HttpRequest) -> HttpResponse:
    """An agency's news and surveys: written here, sent in the background to whoever consents then (U1)."""
    membership = access.mailing_sender(request)
    form = MailingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        actions.create_mailing(agency=membership.agency, actor=request.user, **form.cleaned_data)
        messages.success(
            request, _("The mailing is queued. It goes only to people whose consent is live when it is sent.")
        )
        return redirect("consent:mailings")
    context = {
        "form": form,
        "agency": membership.agency,
        "mailings": Mailing.objects.filter(agency=membership.agency).order_by("-created_at")[:50],
        "audience": {
            purpose: Consent.objects.filter(
                agency=membership.agency, purpose=purpose, recipient="", granted=True
            ).count()
            for purpose in sorted(BY_EMAIL)
        },
    }
    return render(request, "consent/mailings.html", context, status=400 if form.errors else 200)
