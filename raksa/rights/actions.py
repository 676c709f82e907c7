"""Rights requests as cases, and erasure across every store the registry knows (PDPA s30-s36)."""

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from raksa.accounts.actions import deactivate_account
from raksa.accounts.models import User
from raksa.audit import actions as audit
from raksa.audit.models import Outcome
from raksa.consent.actions import withdraw_consent
from raksa.consent.models import Channel
from raksa.disclosures.actions import find_people
from raksa.organisations.models import Agency, Controller, StaffMembership
from raksa.registry import ERASURE_NOTICE, RIGHTS_REQUESTS, RetentionClass, registry
from raksa.retention.actions import destroy_unused_keys_after_commit
from raksa.rights import finders, mail, notices
from raksa.rights.models import CLOSED, IdentityMethod, RequestEvent, RequestType, RightsRequest, Status, Step
from raksa.subjects import limits
from raksa.subjects.actions import create_subject, lift_limits
from raksa.subjects.actions import limit_processing as limit_subject_processing
from raksa.subjects.models import LimitKind, ProcessingLimit, Subject
from raksa.vault.actions import save_sealed, shred
from raksa.vault.fields import EncryptedField
from raksa.vault.models import DataKey
from raksa.vault.openers import Opener
from raksa.vault.routers import KEYSTORE

# Days to answer, per request type; PDPA s30 gives 30 days for access. RAKSA_RIGHTS_DUE_DAYS overrides.
DEFAULT_DUE_DAYS: dict[str, int] = dict.fromkeys(RequestType.values, 30)

# Legal reasons a request may be refused for (codes go into the RoPA, s39).
REFUSAL_REASONS: dict[str, Promise] = {
    "pdpa_s30_law_or_court_order": _("PDPA s30 paragraph 2: the law or a court order allows the refusal"),
    "pdpa_s30_harms_others": _("PDPA s30 paragraph 2: answering would harm the rights of others"),
    "pdpa_s33_legal_obligation": _("PDPA s33 paragraph 2: kept to comply with the law"),
    "pdpa_s33_legal_claims": _("PDPA s33 paragraph 2: kept for legal claims"),
    "pdpa_s32_compelling_grounds": _("PDPA s32: compelling legitimate grounds or a public task"),
    "oia_s25_exempt": _("Official Information Act B.E. 2540 s15/s25: exempt official information"),
}


# Why a case may take longer than its due date allowed (codes: shown to the person, mailed, counted).
EXTENSION_REASONS: dict[str, Promise] = {
    "complex_request": _("the request is complex or concerns many records"),
    "many_requests": _("the person sent many requests at once"),
    "consulting_others": _("another agency or a third party must be consulted"),
}
MAX_EXTENSION_DAYS = 60

# The steps the person is written to about (mail.KINDS).
MAILED_STATUSES = (Status.IN_PROGRESS, Status.COMPLETED, Status.REFUSED)
# The key-store work of a linked request's own subject (`link_request`), under this name for the retention
# run that finishes it if its task cannot.
LINKED_RULE = "rights.request.link"


class RefusalWithoutReasonError(ValueError):
    """A request may be refused only with one of REFUSAL_REASONS."""


class CaseStepError(ValueError):
    """The step does not fit the case: its type, its state, or an identity not yet verified."""


def due_date_for(request_type: str, received_at: datetime) -> date:
    days = {**DEFAULT_DUE_DAYS, **getattr(settings, "RAKSA_RIGHTS_DUE_DAYS", {})}[request_type]
    return timezone.localdate(received_at) + timedelta(days=days)


def _event(request: RightsRequest, *, status: str, actor: User | None, note: str = "", step: str = Step.STATUS) -> None:
    RequestEvent.objects.create(request=request, status=status, step=step, at=timezone.now(), actor=actor, note=note)


def _audit(request: RightsRequest, action: str, actor: User | None, **extra: object) -> None:
    # A member of staff's steps carry their role and agency: the agency's RoPA counts its refusals.
    membership = StaffMembership.objects.filter(user_id=actor.pk).first() if actor is not None else None
    if membership is not None:
        extra = {"role": membership.role, "agency_id": membership.agency_id, **extra}
    audit.record(
        action=action,
        actor=actor,
        subject_id=request.subject_id,
        object_type="rights.rightsrequest",
        object_id=request.id,
        purpose="rights_requests",
        **extra,  # type: ignore[arg-type]
    )


def _mail_after_commit(request: RightsRequest, kind: str) -> None:
    from raksa.rights.tasks import send_request_mail

    request_id = str(request.id)
    transaction.on_commit(lambda: send_request_mail.enqueue(request_id=request_id, kind=kind))


def file_request(
    *,
    subject: Subject,
    type: str,
    details: str = "",
    actor: User | None = None,
    language: str = "th",
    origin: str = "",
    identity_method: str = "",
    contact_email: str = "",
) -> RightsRequest:
    """Receives a request: its due date follows from its type and the time it was received.

    `identity_method` records how the person proved who they are: `reauthentication` when an account
    holder just gave their password again, or the document an officer (`actor`) checked in person.
    `contact_email` is for a person without an account; the person is written to that the request
    arrived, with a link to its page (`origin` is the site's address, `language` theirs)."""
    request = _file(
        subject=subject,
        type=type,
        details=details,
        actor=actor,
        language=language,
        origin=origin,
        identity_method=identity_method,
        contact_email=contact_email,
    )
    _mail_after_commit(request, mail.RECEIVED)
    return request


def file_walk_in_request(
    *,
    type: str,
    details: str,
    identity_method: str,
    actor: User,
    contact_email: str = "",
    language: str = "th",
) -> RightsRequest:
    """A request made at the counter or on paper by a person without an account: the officer checked their
    identity document (only its kind is recorded) and files it; the person becomes a subject of their own."""
    if identity_method in ("", IdentityMethod.REAUTHENTICATION):
        raise CaseStepError("an officer records the document they checked")
    with transaction.atomic():
        request = file_request(
            subject=create_subject(),
            type=type,
            details=details,
            actor=actor,
            language=language,
            identity_method=identity_method,
            contact_email=contact_email,
        )
        # The officer who met the person handles the case until a DPO assigns it to someone else.
        request.assigned_to = actor
        request.save(update_fields=["assigned_to"])
        _event(request, status=request.status, actor=actor, step=Step.ASSIGNED)
    return request


def is_walk_in(request: RightsRequest) -> bool:
    """Filed by an officer for a person without an account here: a subject of its own, an identity
    document checked in person."""
    return request.identity_method not in ("", IdentityMethod.REAUTHENTICATION) and not (
        User.objects.filter(subject_id=request.subject_id).exists()
    )


def find_requester(*, request: RightsRequest, membership: StaffMembership, kind: str, value: str) -> list[Subject]:
    """The people of the officer's agency (its controller) whose national ID, e-mail or phone is exactly
    `value`, through the disclosure screen's finder: blind indexes only, each search audited without the
    value. Nobody outside the agency is ever found."""
    if not is_walk_in(request) or request.status in CLOSED:
        raise CaseStepError("only an open walk-in or paper request is linked to a person")
    return find_people(
        agency=membership.agency,
        kind=kind,
        value=value,
        actor=membership.user,
        role=membership.role,
        action="rights.person_lookup",
        purpose=RIGHTS_REQUESTS.code,
    )


def link_request(*, request: RightsRequest, subject: Subject, actor: User) -> None:
    """A walk-in or paper request is from a person already known here (found by `find_requester` after the
    officer checked their identity document): the case moves to that person, so its erasure or correction
    reaches their account and records. What the request holds is sealed again under that person's keys,
    and the subject the request made for itself has its keys destroyed once this commits, those that
    then seal nothing (checked while no writer holds it: raksa.vault.keys.when_free)."""
    if not is_walk_in(request) or request.status in CLOSED or subject.pk == request.subject_id:
        raise CaseStepError("only an open walk-in or paper request is linked to another person")
    _require_verified(request)
    previous = request.subject_id
    opener = Opener.for_subject(previous)
    with transaction.atomic():
        details, contact = opener.open(request.details), opener.open(request.contact_email)
        request.subject = subject
        request.details = details or None
        request.contact_email = contact or None
        save_sealed(request)
        _event(request, status=request.status, actor=actor, step=Step.LINKED)
        _audit(request, "rights.request.link", actor)
        for code in _live_classes(previous):
            destroy_unused_keys_after_commit(rule=LINKED_RULE, retention=code, scopes=[(previous, None)])


def _live_classes(subject_id: uuid.UUID) -> list[str]:
    """The retention classes of the person's live keys."""
    live = DataKey.objects.using(KEYSTORE).filter(subject_id=subject_id, destroyed_at__isnull=True)
    return sorted(set(live.values_list("retention", flat=True)))


def _file(
    *,
    subject: Subject,
    type: str,
    details: str,
    actor: User | None,
    language: str,
    origin: str,
    identity_method: str = "",
    contact_email: str = "",
) -> RightsRequest:
    if type not in RequestType.values:
        raise ValueError(f"unknown request type {type!r}")
    if identity_method and identity_method not in IdentityMethod.values:
        raise ValueError(f"unknown identity method {identity_method!r}")
    now = timezone.now()
    with transaction.atomic():
        request = RightsRequest(
            subject=subject,
            controller=Controller.objects.get(is_platform_operator=True),
            type=type,
            details=details or None,
            received_at=now,
            due_date=due_date_for(type, now),
            language=language,
            origin=origin,
            contact_email=contact_email or None,
        )
        if identity_method:
            request.identity_method = identity_method
            request.identity_verified_at = now
            request.identity_verified_by = actor
        save_sealed(request)
        _event(request, status=Status.RECEIVED, actor=actor)
        _audit(request, "rights.request.file", actor)
        if identity_method:
            _event(request, status=Status.RECEIVED, actor=actor, step=Step.IDENTITY_VERIFIED, note=identity_method)
    return request


def set_status(
    *,
    request: RightsRequest,
    status: str,
    actor: User | None,
    refusal_reason: str = "",
    error: str = "",
    notify: bool = True,
) -> None:
    """Moves a case on; a refusal carries its legal reason, a failed step its error (codes only). Without
    `notify` the caller sends the person a message of its own instead (an erasure's last message)."""
    if status == Status.REFUSED and refusal_reason not in REFUSAL_REASONS:
        raise RefusalWithoutReasonError(refusal_reason)
    previous = request.status
    with transaction.atomic():
        request.status = status
        request.refusal_reason = refusal_reason if status == Status.REFUSED else ""
        request.last_error = error if status == Status.FAILED else ""
        request.closed_at = timezone.now() if status in CLOSED else None
        request.save(update_fields=["status", "refusal_reason", "last_error", "closed_at"])
        _event(request, status=status, actor=actor, note=refusal_reason or error)
        # A refusal is recorded as denied, with its legal reason: the RoPA (s39) counts it.
        _audit(
            request,
            f"rights.request.{status}",
            actor,
            legal_basis=refusal_reason,
            outcome=Outcome.DENIED if status == Status.REFUSED else Outcome.ALLOWED,
        )
        # A retried step (failed → in progress) or a repeated status writes nothing new to the person.
        if notify and status in MAILED_STATUSES and status != previous and previous != Status.FAILED:
            _mail_after_commit(request, status)


def record_unsent_mail(*, request: RightsRequest, kind: str, error: str) -> None:
    """A step's message could not be sent: the case shows it (never silently stuck) until it is resent."""
    with transaction.atomic():
        request.unsent_mail = kind
        request.last_error = error[:100]
        request.save(update_fields=["unsent_mail", "last_error"])
        _event(request, status=request.status, actor=None, step=Step.MAIL_FAILED, note=f"{kind}: {error}"[:100])
        _audit(request, "rights.request.mail_failed", None, outcome=Outcome.FAILED)


def resend_mail(*, request: RightsRequest, actor: User) -> bool:
    """Sends the message that failed again; True once it went (the case is clear again)."""
    if not request.unsent_mail:
        raise CaseStepError("no message is waiting to be sent")
    kind = request.unsent_mail
    if mail.recipient(request) is None:
        # The address is gone: erased, or an erasure's kept address past its period.
        raise CaseStepError("there is no address to write to any more")
    if not _send(request, kind, actor=actor):
        return False
    with transaction.atomic():
        request.unsent_mail = ""
        request.last_error = ""
        request.save(update_fields=["unsent_mail", "last_error"])
        _event(request, status=request.status, actor=actor, step=Step.MAIL_SENT, note=kind)
        _audit(request, "rights.request.mail_resent", actor)
    return True


def assign_request(*, request: RightsRequest, officer: User, actor: User) -> None:
    """The case gets its handler (a DPO or an officer); a case just received is now in progress."""
    if request.status in CLOSED:
        raise CaseStepError("a closed case is not assigned")
    with transaction.atomic():
        request.assigned_to = officer
        request.save(update_fields=["assigned_to"])
        _event(request, status=request.status, actor=actor, step=Step.ASSIGNED)
        _audit(request, "rights.request.assign", actor)
        if request.status == Status.RECEIVED:
            set_status(request=request, status=Status.IN_PROGRESS, actor=actor)


def verify_identity(*, request: RightsRequest, method: str, actor: User) -> None:
    """An officer checked the person's identity document in person (a walk-in or paper request).
    Only the kind of document is recorded, never its number."""
    if method not in IdentityMethod.values or method == IdentityMethod.REAUTHENTICATION:
        raise CaseStepError(f"{method!r} is not a document an officer checks")
    with transaction.atomic():
        request.identity_method = method
        request.identity_verified_at = timezone.now()
        request.identity_verified_by = actor
        request.save(update_fields=["identity_method", "identity_verified_at", "identity_verified_by"])
        _event(request, status=request.status, actor=actor, step=Step.IDENTITY_VERIFIED, note=method)
        _audit(request, "rights.request.verify_identity", actor)


def extend_due_date(*, request: RightsRequest, days: int, reason: str, actor: User) -> None:
    """Moves the due date on, with one of EXTENSION_REASONS; the person is told the new date and why."""
    if reason not in EXTENSION_REASONS:
        raise CaseStepError(f"{reason!r} is not a reason for an extension")
    if not 1 <= days <= MAX_EXTENSION_DAYS or request.status in CLOSED:
        raise CaseStepError("an open case is extended by 1 to MAX_EXTENSION_DAYS days")
    with transaction.atomic():
        request.due_date = request.due_date + timedelta(days=days)
        request.extension_reason = reason
        request.save(update_fields=["due_date", "extension_reason"])
        _event(request, status=request.status, actor=actor, step=Step.EXTENDED, note=reason)
        _audit(request, "rights.request.extend", actor)
        _mail_after_commit(request, mail.EXTENDED)


def _require_verified(request: RightsRequest) -> None:
    if request.identity_verified_at is None:
        raise CaseStepError("the person's identity is not verified yet (R1)")


def correctable_fields(subject_id: uuid.UUID) -> list[tuple[str, str, str]]:
    """(store, row ID, field) of every sealed value held about the person (not the columns left empty):
    what a rectification can reach."""
    found: list[tuple[str, str, str]] = []
    for store in registry.stores():
        finder = finders.finder_for(store.model)
        if finder is None:
            continue
        model = store.model_class()
        sealed = [d.field for d in store.declarations if isinstance(model._meta.get_field(d.field), EncryptedField)]
        if not sealed:
            continue
        for pk, *values in finder(subject_id).values_list("pk", *sealed):
            found.extend(
                (model._meta.label, str(pk), name)
                for name, value in zip(sealed, values, strict=True)
                if value is not None
            )
    return found


def rectify(*, subject_id: uuid.UUID, store: str, row_id: str, field: str, value: str, actor: User) -> None:
    """Writes a corrected value through the vault (sealed, its blind index renewed) with its audit entry;
    only a sealed field the registry declares, on a row that belongs to this person."""
    if (store, row_id, field) not in set(correctable_fields(subject_id)):
        raise CaseStepError("no such value is held about this person")
    model = apps.get_model(store)
    finder = finders.finder_for(store)
    assert finder is not None  # correctable_fields found the row through it
    with transaction.atomic():
        row = finder(subject_id).select_for_update().get(pk=row_id)
        setattr(row, field, value or None)
        save_sealed(row)
        audit.record(
            action="rights.rectify",
            actor=actor,
            subject_id=subject_id,
            object_type=model._meta.label_lower,
            object_id=row_id,
            fields=(field,),
            purpose="rights_requests",
        )


# Values a person corrects themselves, without a case (R3): contact details they alone know best.
# Names, dates of birth, ID numbers and the like need evidence: those go through a rectification request.
SELF_CORRECTABLE_CATEGORIES = frozenset({"address", "phone", "workplace", "interests"})


def self_correctable_fields(subject_id: uuid.UUID) -> list[tuple[str, str, str]]:
    return [
        (store, row_id, field)
        for store, row_id, field in correctable_fields(subject_id)
        if registry.declaration(store, field).category.code in SELF_CORRECTABLE_CATEGORIES
    ]


def correct_own_data(*, subject: Subject, changes: list[tuple[str, str, str, str]], actor: User) -> int:
    """The person's own corrections of values they may correct themselves, each audited; all or nothing."""
    allowed = set(self_correctable_fields(subject.id))
    if any((store, row_id, field) not in allowed for store, row_id, field, _value in changes):
        raise CaseStepError("this value is corrected through a rectification request")
    with transaction.atomic():
        for store, row_id, field, value in changes:
            rectify(subject_id=subject.id, store=store, row_id=row_id, field=field, value=value, actor=actor)
    return len(changes)


def apply_rectification(
    *, request: RightsRequest, store: str, row_id: str, field: str, value: str, actor: User
) -> None:
    """The officer's correction of one value asked for in a rectification request (PDPA s36)."""
    if request.type != RequestType.RECTIFICATION or request.status in CLOSED:
        raise CaseStepError("only an open rectification request is applied")
    _require_verified(request)
    with transaction.atomic():
        rectify(subject_id=request.subject_id, store=store, row_id=row_id, field=field, value=value, actor=actor)
        # Names only: the value stays in the vault.
        _event(request, status=request.status, actor=actor, step=Step.RECTIFIED, note=f"{store}.{field}"[:100])


# What each kind of case puts in force when the officer grants it (PDPA s34 restriction, s32 objection).
LIMIT_KINDS: dict[str, str] = {
    RequestType.RESTRICTION: LimitKind.RESTRICTION,
    RequestType.OBJECTION: LimitKind.OBJECTION,
}


def limitable_purposes() -> list[str]:
    """The registry's purposes a restriction or an objection can stop (marketing is never processed at all)."""
    return [
        purpose.code
        for purpose in registry.purposes()
        if not purpose.refused and purpose.code not in limits.NEVER_LIMITED
    ]


def limit_processing(*, request: RightsRequest, purposes: list[str], actor: User) -> None:
    """Grants a restriction (s34: every purpose it may cover, or those chosen) or upholds an objection (s32:
    the purposes objected to): from now on the person's data is not processed for them (raksa.subjects.limits),
    and the case is completed. A restriction stays in force until it is lifted."""
    kind = LIMIT_KINDS.get(request.type)
    if kind is None or request.status in CLOSED:
        raise CaseStepError("only an open restriction or objection case puts a limit in force")
    _require_verified(request)
    if not set(purposes) <= set(limitable_purposes()) or (kind == LimitKind.OBJECTION and not purposes):
        raise CaseStepError("an objection is upheld for the purposes objected to")
    with transaction.atomic():
        limit_subject_processing(
            subject=request.subject, kind=kind, purposes=purposes or [limits.ALL], reference=request.id, actor=actor
        )
        _event(request, status=request.status, actor=actor, step=Step.LIMITED, note=",".join(purposes or ["*"])[:100])
        set_status(request=request, status=Status.COMPLETED, actor=actor)


def lift_restriction(*, request: RightsRequest, actor: User) -> None:
    """Ends what this case put in force (the reason for the restriction is gone, or the person withdrew their
    objection). The person is mailed once the lift commits, not before: processing has resumed when the
    message goes (a failed message stays on the case to be sent again)."""
    with transaction.atomic():
        if not lift_limits(subject=request.subject, reference=request.id, actor=actor):
            raise CaseStepError("nothing this case put in force is in force")
        _event(request, status=request.status, actor=actor, step=Step.LIFTED)
        _audit(request, "rights.request.lift", actor)
        _mail_after_commit(request, mail.LIFTED)


def limits_of(request: RightsRequest) -> list[ProcessingLimit]:
    """What this case keeps in force, for the person's and the officer's pages."""
    return list(limits.in_force(request.subject_id).filter(reference=request.id))


def withdraw_consent_by_request(
    *,
    subject: Subject,
    agency: Agency,
    purpose: str,
    actor: User | None,
    channel: str = Channel.WEB,
    language: str = "th",
    origin: str = "",
) -> RightsRequest:
    """A consent withdrawal filed as a request (PDPA s19): withdrawn at once through the consent app's own
    action, and the case closed with it, so the person has the case and the mail as their receipt."""
    with transaction.atomic():
        request = _file(
            subject=subject,
            type=RequestType.CONSENT_WITHDRAWAL,
            details=f"{agency.slug}: {purpose}",
            actor=actor,
            language=language,
            origin=origin,
        )
        withdraw_consent(subject=subject, agency=agency, purpose=purpose, channel=channel, actor=actor)
        set_status(request=request, status=Status.COMPLETED, actor=actor)
    return request


def close_account(*, user: User, language: str = "th", origin: str = "") -> RightsRequest:
    """Closing an account is an erasure request (PDPA s33): filed with the password just given again,
    the account deactivated and every session ended at once; erasure then runs in the background."""
    from raksa.rights.tasks import carry_out_erasure as erasure_task

    if user.subject is None:
        raise CaseStepError("an account without a subject has nothing to erase")
    with transaction.atomic():
        request = file_request(
            subject=user.subject,
            type=RequestType.ERASURE,
            actor=user,
            language=language,
            origin=origin,
            identity_method=IdentityMethod.REAUTHENTICATION,
        )
        deactivate_account(actor=user, user=user)
        request_id = str(request.id)
        transaction.on_commit(lambda: erasure_task.enqueue(request_id=request_id))
    return request


def carry_out_erasure(*, request: RightsRequest, actor: User | None) -> bool:
    """Erases the person (erase_person) for an erasure request whose identity is verified, closes the case
    and confirms by mail (to the address read before it was erased). A failure stays on the case, retryable."""
    if request.type != RequestType.ERASURE or request.status in CLOSED:
        raise CaseStepError("only an open erasure request is carried out")
    _require_verified(request)
    try:
        # The last message's address outlives the erasure under a key of its own, until the message is sent.
        address = mail.recipient(request)
        if address:
            notices.keep_address(request=request, address=address)
        erase_person(subject=request.subject, actor=actor)
    except Exception as error:  # the case shows the step failed and can be retried
        set_status(request=request, status=Status.FAILED, actor=actor, error=type(error).__name__)
        return False
    request.refresh_from_db()
    # The last message ("your data has been erased") is the completed case's message.
    set_status(request=request, status=Status.COMPLETED, actor=actor, notify=not address)
    if address:
        _send(request, mail.ERASED, actor=actor)
    return True


def _send(request: RightsRequest, kind: str, *, actor: User | None) -> bool:
    """Sends one step's message now; one that cannot be sent is recorded on the case (resend_mail). The
    last message of an erasure destroys the address it went to."""
    try:
        sent = mail.send(request, kind)
    except mail.SEND_ERRORS as error:
        record_unsent_mail(request=request, kind=kind, error=type(error).__name__)
        return False
    if sent and kind == mail.ERASED:
        notices.forget(request=request, actor=actor)
    return sent


def refusals(*, since: date | None = None) -> list[tuple[str, str, int]]:
    """(request type, legal reason code, count) of refused requests, for the RoPA (s39)."""
    from django.db.models import Count

    rows = RightsRequest.objects.filter(status=Status.REFUSED)
    if since is not None:
        rows = rows.filter(closed_at__date__gte=since)
    counted = rows.values_list("type", "refusal_reason").annotate(n=Count("id")).order_by("type", "refusal_reason")
    return [(kind, reason, n) for kind, reason, n in counted]


@dataclass(frozen=True)
class Kept:
    """Data a law makes the agency keep after erasure, told to the person with its reason and end."""

    retention: RetentionClass
    keys: int = 0
    rows: int = 0

    @property
    def reason(self) -> str:
        return self.retention.law

    @property
    def period_days(self) -> int | None:
        return self.retention.period_days


@dataclass
class ErasurePlan:
    rows: dict[str, int] = field(default_factory=dict)
    keys: int = 0
    kept: list[Kept] = field(default_factory=list)
    # The address of the message confirming the erasure is kept at most so long (raksa.rights.notices).
    notice_days: int | None = ERASURE_NOTICE.period_days


def _kept_by_law(retention: RetentionClass) -> bool:
    return bool(retention.law) and retention.period_days is not None


def _kept(code: str) -> bool:
    """Keys erasure leaves: what a law keeps, and the address of the message confirming the erasure."""
    return code == notices.KEPT_CLASS or _kept_by_law(registry.retention_class(code))


def plan_erasure(*, subject_id: uuid.UUID) -> ErasurePlan:
    """The dry run: how many rows of each store and keys erasure would reach, and what the law keeps."""
    plan = ErasurePlan()
    kept_rows: dict[str, int] = {}
    for store in registry.stores():
        finder = finders.finder_for(store.model)
        if finder is None:
            continue
        count = finder(subject_id).count()
        if not count:
            continue
        plan.rows[store.model] = count
        # Rows no eraser touches and a law makes the agency keep (access logs, CCA s26) stay until their date.
        if finders.eraser_for(store.model) is None:
            for retention in {d.retention for d in store.declarations if _kept_by_law(d.retention)}:
                kept_rows[retention.code] = kept_rows.get(retention.code, 0) + count
    live = DataKey.objects.using(KEYSTORE).filter(subject_id=subject_id, destroyed_at__isnull=True)
    kept_keys: dict[str, int] = {}
    for code, keys in _counts(live.values_list("retention", flat=True)).items():
        if code == notices.KEPT_CLASS:
            continue  # kept only until the message confirming the erasure is sent (raksa.rights.notices)
        if _kept_by_law(registry.retention_class(code)):
            kept_keys[code] = keys
        else:
            plan.keys += keys
    for code in sorted(kept_keys.keys() | kept_rows.keys()):
        plan.kept.append(
            Kept(retention=registry.retention_class(code), keys=kept_keys.get(code, 0), rows=kept_rows.get(code, 0))
        )
    return plan


def _counts(values: object) -> dict[str, int]:
    counted: dict[str, int] = {}
    for value in values:  # type: ignore[attr-defined]
        counted[value] = counted.get(value, 0) + 1
    return counted


def erase_person(*, subject: Subject, actor: User | None = None) -> ErasurePlan:
    """PDPA s33: destroys the person's data keys class by class (except what a law keeps), their blind
    indexes with them, empties plaintext columns through each store's eraser, and unlinks the account.
    The Subject row and the audit log stay: the entries now point to an ID linked to nobody."""
    plan = plan_erasure(subject_id=subject.id)
    classes = set(
        DataKey.objects.using(KEYSTORE)
        .filter(subject_id=subject.id, destroyed_at__isnull=True)
        .values_list("retention", flat=True)
    )
    for code in sorted(code for code in classes if not _kept(code)):
        shred(subject_id=subject.id, retention=code, actor=actor)
    with transaction.atomic():
        # Erasers run on primary keys collected first: unlinking the account hides rows found through it.
        found = []
        for store in registry.stores():
            finder = finders.finder_for(store.model)
            eraser = finders.eraser_for(store.model)
            if finder is not None and eraser is not None:
                model = store.model_class()
                found.append((model, eraser, list(finder(subject.id).values_list("pk", flat=True))))
        for model, eraser, pks in reversed(found):
            eraser(model._default_manager.filter(pk__in=pks))
        audit.record(
            action="rights.erase",
            actor=actor,
            subject_id=subject.id,
            object_type="subjects.subject",
            object_id=subject.id,
            purpose="rights_requests",
        )
    return plan
