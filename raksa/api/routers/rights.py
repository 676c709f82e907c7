"""The person's data (the export's schema), their rights requests, who looked at their data, who received it."""

import uuid
from collections.abc import Mapping

from django.http import HttpRequest
from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from raksa.api import problems
from raksa.api.auth import PERSON, account, require_recent_password
from raksa.api.pagination import PageQuery, page_of_list, page_of_queryset
from raksa.api.problems import Problem
from raksa.api.schemas import (
    AccessOut,
    AccessPage,
    DisclosureOut,
    DisclosurePage,
    ExportOut,
    ReasonOut,
    RequestDetailOut,
    RequestEventOut,
    RequestIn,
    RequestOut,
    RequestPage,
)
from raksa.audit.tracker import describe, entries_about
from raksa.consent.models import Channel, Consent
from raksa.disclosures import access as disclosure_access
from raksa.disclosures.actions import ledger_for
from raksa.disclosures.models import Disclosure
from raksa.rights import actions
from raksa.rights.access import own_request
from raksa.rights.export import assemble
from raksa.rights.models import IdentityMethod, RequestType, RightsRequest
from raksa.subjects.models import Subject
from raksa.vault.openers import Opener

router = Router(tags=["my data and my rights"])


def _subject(request: HttpRequest) -> Subject:
    subject = account(request).subject
    if subject is None:
        raise Problem("not-found")
    return subject


@router.get(
    "/me/data",
    response=ExportOut,
    auth=PERSON,
    by_alias=True,
    summary="All my data",
    description="The same document as the JSON download of My data (schema `raksa.rights.export`). "
    "As the download, it needs a recent password: a token from a log-in within RAKSA_REAUTH_MINUTES.",
)
def my_data(request: HttpRequest) -> dict:
    subject = _subject(request)
    require_recent_password(request)
    return assemble(subject.id, opener=Opener.for_subject(subject.id))


def request_out(case: RightsRequest) -> RequestOut:
    return RequestOut(
        id=case.id,
        type=case.type,
        status=case.status,
        due_date=case.due_date,
        received_at=case.received_at,
        closed_at=case.closed_at,
    )


@router.post(
    "/me/requests",
    response={201: RequestOut},
    auth=PERSON,
    summary="File a rights request",
    description="Filed with a recent password as proof of identity (a token from a log-in within "
    "RAKSA_REAUTH_MINUTES), as on the website. A consent withdrawal names the consent (`agency`, "
    "`purpose`) and takes effect at once.",
)
def file_request(request: HttpRequest, payload: RequestIn) -> Status:
    subject = _subject(request)
    user = account(request)
    require_recent_password(request)
    language = get_language() or "th"
    origin = f"{request.scheme}://{request.get_host()}"
    if payload.type == RequestType.CONSENT_WITHDRAWAL:
        consent = Consent.objects.filter(
            subject=subject, agency__slug=payload.agency or "", purpose=payload.purpose or "", granted=True
        ).first()
        if consent is None:
            raise problems.invalid({"purpose": [_("Choose the consent you withdraw.")]})
        filed = actions.withdraw_consent_by_request(
            subject=subject,
            agency=consent.agency,
            purpose=consent.purpose,
            actor=user,
            channel=Channel.APP,
            language=language,
            origin=origin,
        )
    else:
        filed = actions.file_request(
            subject=subject,
            type=payload.type,
            details=payload.details,
            actor=user,
            language=language,
            origin=origin,
            identity_method=IdentityMethod.REAUTHENTICATION,
        )
    return Status(201, request_out(filed))


@router.get("/me/requests", response=RequestPage, auth=PERSON, summary="My rights requests")
def my_requests(request: HttpRequest, page: Query[PageQuery]) -> RequestPage:
    mine = RightsRequest.objects.filter(subject=_subject(request))
    rows, cursor = page_of_queryset(mine, scope="requests", order=("-received_at", "-id"), page=page)
    return RequestPage(items=[request_out(case) for case in rows], next_cursor=cursor)


def _reason(reasons: Mapping[str, Promise], code: str) -> ReasonOut | None:
    """The code with the website's wording of it; None when the case has no such reason."""
    return ReasonOut(code=code, text=str(reasons[code])) if code in reasons else None


@router.get("/me/requests/{uuid:request_id}", response=RequestDetailOut, auth=PERSON, summary="One of my requests")
def my_request(request: HttpRequest, request_id: uuid.UUID) -> RequestDetailOut:
    case = own_request(request, str(request_id))
    details = Opener.for_subject(case.subject_id).open(case.details)
    return RequestDetailOut(
        **request_out(case).model_dump(),
        details=details if isinstance(details, str) else "",
        events=[RequestEventOut(status=event.status, at=event.at) for event in case.events.all()],
        refusal_reason=_reason(actions.REFUSAL_REASONS, case.refusal_reason),
        extension_reason=_reason(actions.EXTENSION_REASONS, case.extension_reason),
    )


@router.get("/me/access-log", response=AccessPage, auth=PERSON, summary="Who looked at my data")
def access_log(request: HttpRequest, page: Query[PageQuery]) -> AccessPage:
    entries = entries_about(_subject(request).id)
    rows, cursor = page_of_queryset(entries, scope="access-log", order=("-time", "-id"), page=page)
    looks = [describe(entry) for entry in rows]
    return AccessPage(
        items=[
            AccessOut(
                time=look.entry.time,
                who=look.entry.actor.username if look.entry.actor else "",
                agency=look.entry.agency.name if look.entry.agency else "",
                what=look.what,
                why=look.why,
                legal_basis=look.basis,
                result=look.result,
            )
            for look in looks
        ],
        next_cursor=cursor,
    )


def _disclosure_key(disclosure: Disclosure) -> tuple[str, str]:
    return (disclosure.disclosed_at.isoformat(), str(disclosure.pk))


@router.get("/me/disclosures", response=DisclosurePage, auth=PERSON, summary="Who received my data")
def disclosures(request: HttpRequest, page: Query[PageQuery]) -> DisclosurePage:
    ledger = ledger_for(disclosure_access.person(request))
    rows, cursor = page_of_list(ledger, scope="disclosures", key=_disclosure_key, page=page, descending=True)
    return DisclosurePage(
        items=[
            DisclosureOut(
                disclosed_at=row.disclosed_at,
                agency=row.agency.name,
                recipient=row.recipient.name,
                recipient_kind=row.recipient.kind,
                purpose=row.purpose,
                basis=row.basis,
                legal_reference=row.legal_reference,
                issuing_authority=row.issuing_authority,
                fields=list(row.fields),
            )
            for row in rows
        ],
        next_cursor=cursor,
    )
