"""The privacy policies (the platform's and each agency's) and the person's consents."""

from django.http import HttpRequest
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Query, Router

from raksa.api import problems
from raksa.api.auth import PERSON, account
from raksa.api.pagination import PageQuery, page_of_list, page_of_queryset
from raksa.api.problems import Problem
from raksa.api.schemas import (
    AgencyOut,
    AgencyPage,
    ConsentIn,
    ConsentOut,
    ConsentPage,
    PolicyOut,
    PolicyVersionOut,
    PolicyVersionPage,
    ProcessingOut,
    RecipientConsentIn,
    RecipientConsentOut,
    RecipientConsentPage,
)
from raksa.consent import access, actions, policies, recipients
from raksa.consent.forms import AgeGroup, ConsentGrantForm
from raksa.consent.models import Channel, Consent, PolicyVersion
from raksa.consent.purposes import BY_EMAIL, consent_purposes
from raksa.consent.purposes import description as describe_purpose
from raksa.organisations.models import Agency
from raksa.registry import registry
from raksa.subjects.models import Subject

router = Router(tags=["policies and consents"])


def _english() -> bool:
    return get_language() == "en"


def _policy(version: PolicyVersion) -> PolicyOut:
    english = _english()
    return PolicyOut(
        scope=access.scope_of(version.agency),
        version=version.number or 0,
        effective_date=version.effective_date,
        published_at=version.published_at,
        summary=version.summary_en if english and version.summary_en else version.summary_th,
        text=version.markdown_en if english and version.markdown_en else version.markdown_th,
        html=version.html_en if english and version.html_en else version.html_th,
        processing=[
            ProcessingOut(
                activity=item.activity,
                activity_label=item.activity_en if english else item.activity_th,
                category=item.category,
                purpose=item.purpose,
                legal_basis=item.legal_basis,
                retention=item.retention,
                retention_days=item.retention_days,
                recipients=list(item.recipients),
            )
            for item in (policies.Processing.from_json(data) for data in version.coverage)
        ],
    )


@router.get("/policy", response=PolicyOut, summary="The platform's privacy policy in force")
def platform_policy(request: HttpRequest) -> PolicyOut:
    version = policies.current_platform_policy()
    if version is None:
        raise Problem("not-found")
    return _policy(version)


def _agency(agency: Agency) -> AgencyOut:
    english = _english()
    return AgencyOut(
        slug=agency.slug,
        name=agency.name,
        address=agency.address_en if english and agency.address_en else agency.address_th,
        phone=agency.phone,
        website=agency.website,
        dpo_email=agency.dpo_email,
        dpo_phone=agency.dpo_phone,
    )


@router.get("/agencies", response=AgencyPage, summary="Agencies")
def agencies(request: HttpRequest, page: Query[PageQuery]) -> AgencyPage:
    rows, cursor = page_of_queryset(Agency.objects.all(), scope="agencies", order=("slug",), page=page)
    return AgencyPage(items=[_agency(agency) for agency in rows], next_cursor=cursor)


def _agency_scope(slug: str) -> Agency:
    agency = access.policy_scope(slug)
    if agency is None:  # "platform" names no agency here
        raise Problem("not-found")
    return agency


@router.get(
    "/agencies/{slug}/policy",
    response=PolicyOut,
    summary="The policy that governs an agency",
    description="The agency's own published version in force, or else the platform's (`scope` says which).",
)
def agency_policy(request: HttpRequest, slug: str) -> PolicyOut:
    agency = _agency_scope(slug)
    version = policies.current_policy(agency) or policies.current_platform_policy()
    if version is None:
        raise Problem("not-found")
    return _policy(version)


@router.get("/agencies/{slug}/policy/versions", response=PolicyVersionPage, summary="An agency's published versions")
def agency_policy_versions(request: HttpRequest, slug: str, page: Query[PageQuery]) -> PolicyVersionPage:
    agency = _agency_scope(slug)
    rows, cursor = page_of_queryset(
        policies.published_versions(agency), scope=f"policy-versions:{agency.pk}", order=("-number",), page=page
    )
    english = _english()
    return PolicyVersionPage(
        items=[
            PolicyVersionOut(
                version=version.number or 0,
                effective_date=version.effective_date,
                published_at=version.published_at,
                summary=version.summary_en if english and version.summary_en else version.summary_th,
            )
            for version in rows
        ],
        next_cursor=cursor,
    )


def _subject(request: HttpRequest) -> Subject:
    subject = account(request).subject
    if subject is None:
        raise Problem("not-found")
    return subject


def _consents(subject: Subject) -> list[ConsentOut]:
    language = get_language() or "th"
    # The agency's own consents; consents to one of its recipients are separate choices (raksa.consent.recipients).
    granted = {(c.agency_id, c.purpose) for c in Consent.objects.filter(subject=subject, recipient="", granted=True)}
    return [
        ConsentOut(
            agency=agency.slug,
            purpose=purpose.code,
            label=purpose.label_en if language == "en" else purpose.label_th,
            description=describe_purpose(purpose, language),
            granted=(agency.pk, purpose.code) in granted,
            needs_email=purpose.code in BY_EMAIL,
        )
        for agency in Agency.objects.all()
        for purpose in consent_purposes(agency)
    ]


@router.get("/me/consents", response=ConsentPage, auth=PERSON, summary="My consents, per agency and purpose")
def my_consents(request: HttpRequest, page: Query[PageQuery]) -> ConsentPage:
    rows, cursor = page_of_list(
        _consents(_subject(request)), scope="consents", key=lambda c: (c.agency, c.purpose), page=page
    )
    return ConsentPage(items=rows, next_cursor=cursor)


# Consents to one recipient of an agency (raksa.consent.recipients), as on the web's consents page: declared
# before /me/consents/{purpose}, which would otherwise take /me/consents/recipients for a purpose.
def _recipient_consents(subject: Subject) -> list[RecipientConsentOut]:
    language = get_language() or "th"
    covers = {
        (c.agency_id, c.purpose, c.recipient): c.categories
        for c in Consent.objects.filter(subject=subject, granted=True).exclude(recipient="")
    }
    return [
        RecipientConsentOut(
            agency=agency.slug,
            recipient=recipient.key,
            recipient_name=recipient.name,
            purpose=purpose.code,
            label=purpose.label_en if language == "en" else purpose.label_th,
            description=describe_purpose(purpose, language),
            categories=list(recipient.categories),
            granted=(agency.pk, purpose.code, recipient.key) in covers,
            covers=covers.get((agency.pk, purpose.code, recipient.key), []),
        )
        for agency in Agency.objects.all()
        for recipient in recipients.recipients_for(agency)
        for purpose in map(registry.purpose, recipient.purposes)
    ]


@router.get(
    "/me/consents/recipients",
    response=RecipientConsentPage,
    auth=PERSON,
    summary="My consents to a specific recipient",
    description="Each recipient of an agency a person may consent to disclose to, per purpose (PDPA s19): "
    "a separate choice from the agency's own consent, counting for that recipient only.",
)
def my_recipient_consents(request: HttpRequest, page: Query[PageQuery]) -> RecipientConsentPage:
    rows, cursor = page_of_list(
        _recipient_consents(_subject(request)),
        scope="recipient-consents",
        key=lambda c: (c.agency, c.recipient, c.purpose),
        page=page,
    )
    return RecipientConsentPage(items=rows, next_cursor=cursor)


@router.put(
    "/me/consents/recipients/{purpose}",
    response=RecipientConsentOut,
    auth=PERSON,
    summary="Grant or withdraw a consent to one recipient",
    description="`agency` and `recipient` as listed; 404 for a recipient or purpose not offered. Withdrawing "
    "takes effect at once; a person under 20 grants only with a parent's or guardian's consent (PDPA s20).",
)
def set_recipient_consent(request: HttpRequest, purpose: str, payload: RecipientConsentIn) -> RecipientConsentOut:
    subject = _subject(request)
    agency = Agency.objects.filter(slug=payload.agency).first()
    if agency is None:
        raise problems.invalid({"agency": [_("There is no agency with this name.")]})
    if recipients.offered(agency, payload.recipient, purpose) is None:
        raise Problem("not-found")
    if payload.granted:
        _grant(request, subject, agency, purpose, payload, recipient=payload.recipient)
    elif Consent.objects.filter(subject=subject, agency=agency, purpose=purpose, recipient=payload.recipient).exists():
        actions.withdraw_consent(
            subject=subject,
            agency=agency,
            purpose=purpose,
            recipient=payload.recipient,
            channel=Channel.APP,
            actor=request.user,
        )
    return next(
        c
        for c in _recipient_consents(subject)
        if (c.agency, c.recipient, c.purpose) == (agency.slug, payload.recipient, purpose)
    )


@router.put(
    "/me/consents/{purpose}",
    response=ConsentOut,
    auth=PERSON,
    summary="Grant or withdraw a consent",
    description="Withdrawing takes effect at once. A person under 20 grants only with a parent's or "
    "guardian's consent (PDPA s20).",
)
def set_consent(request: HttpRequest, purpose: str, payload: ConsentIn) -> ConsentOut:
    subject = _subject(request)
    agency = Agency.objects.filter(slug=payload.agency).first()
    if agency is None:
        raise problems.invalid({"agency": [_("There is no agency with this name.")]})
    if purpose not in {p.code for p in consent_purposes(agency)}:
        raise Problem("not-found")
    if payload.granted:
        _grant(request, subject, agency, purpose, payload)
    elif Consent.objects.filter(subject=subject, agency=agency, purpose=purpose, recipient="").exists():
        actions.withdraw_consent(
            subject=subject, agency=agency, purpose=purpose, channel=Channel.APP, actor=request.user
        )
    return next(c for c in _consents(subject) if c.agency == agency.slug and c.purpose == purpose)


def _grant(
    request: HttpRequest,
    subject: Subject,
    agency: Agency,
    purpose: str,
    payload: ConsentIn | RecipientConsentIn,
    recipient: str = "",
) -> None:
    """Through the web's own form: the same checks (PDPA s20 for minors, the address for e-mail), the same words."""
    needs_email = purpose in BY_EMAIL and not recipient
    email = payload.email if isinstance(payload, ConsentIn) else None
    if email and not needs_email:
        raise problems.invalid({"email": [_("This purpose is not delivered by e-mail.")]})
    form = ConsentGrantForm(
        {
            "age_group": payload.age_group or "",
            "guardian_consents": "on" if payload.guardian_consents else "",
            "email": email or "",
        },
        needs_email=needs_email,
    )
    if not form.is_valid():
        raise problems.from_form(form)
    try:
        actions.grant_consent(
            subject=subject,
            agency=agency,
            purpose=purpose,
            recipient=recipient,
            shown=payload.categories if isinstance(payload, RecipientConsentIn) else None,
            channel=Channel.APP,
            minor=form.cleaned_data["age_group"] == AgeGroup.MINOR,
            guardian_consents=form.cleaned_data["guardian_consents"],
            email=form.cleaned_data.get("email", ""),
            actor=request.user,
        )
    except actions.ConsentOutdatedError:
        raise Problem(
            "conflict",
            _("The recipient now receives other data than the app showed: show the person the list again."),
        ) from None
