"""Writes of the services app: each one transaction, each with its audit entry.

Declaring: `create_service`, `change_service` (a capacity that grows promotes the waiting list),
`declare_field` (refuses what the registry does not allow), `assign_officer`, `current_notice`.
Registering: `register` (one registration per submitted form, seats and waiting list),
`cancel_registration` (by the person; promotes the next on the waiting list).
Officers: `change_status`, `add_note`, `notify_person`.
"""

import uuid
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import get_language

from raksa.audit.actions import record
from raksa.organisations.models import Agency, StaffMembership, StaffRole
from raksa.registry import EXPLICIT_CONSENT, PurposeRefusedError, registry
from raksa.services import notice as notices
from raksa.services import publishing
from raksa.services.columns import COLUMNS
from raksa.services.models import (
    CLOSED_STATUSES,
    OFFICER_STATUSES,
    SEAT_STATUSES,
    CaseNote,
    NoteKind,
    NoticeVersion,
    Registration,
    Service,
    ServiceField,
    Status,
)
from raksa.services.processing import fields_in_force
from raksa.services.tasks import send_registration_mail
from raksa.subjects.models import Subject
from raksa.vault.actions import save_sealed

REGISTRATION = "services.registration"


class DeclarationError(ValueError):
    """A service asked for something the registry does not allow it to collect."""


class RegistrationRefusedError(ValueError):
    """The registration cannot be accepted; the message says why, without any value."""


class ServiceClosedError(RegistrationRefusedError):
    pass


class UndeclaredFieldError(RegistrationRefusedError):
    """A value for a category the service does not declare (C1)."""


class NoticeChangedError(RegistrationRefusedError):
    """The declaration changed after the person read the notice: they must read the new one."""


class StatusRefusedError(ValueError):
    """An officer's status change that the case cannot take (cancelled by the person, or no seat left)."""


class CancelledByPersonError(StatusRefusedError):
    pass


class CaseErasedError(ValueError):
    """The case's personal data was erased (its retention ended, or the person's erasure): nothing more is
    written to it, since no retention run would end what was added after."""


class NoSeatLeftError(StatusRefusedError):
    """A waiting-list registration cannot take a seat the activity does not have."""


# Declaring ----------------------------------------------------------------------------------------
def check_field(*, category: str, purpose: str, legal_basis: str) -> None:
    """Raises DeclarationError unless a service may ask for this category, for this purpose, on this basis."""
    try:
        known = registry.category(category)
    except KeyError:
        raise DeclarationError(f"the registry has no category {category!r}") from None
    if category not in COLUMNS:
        raise DeclarationError(f"{category!r} is not collected on a form")
    try:
        wanted = registry.usable_purpose(purpose)
    except KeyError:
        raise DeclarationError(f"the registry has no purpose {purpose!r}") from None
    except PurposeRefusedError:
        raise DeclarationError(f"the purpose {purpose!r} is refused") from None
    try:
        basis = registry.legal_basis(legal_basis)
    except KeyError:
        raise DeclarationError(f"the registry has no legal basis {legal_basis!r}") from None
    if known.sensitive and basis != EXPLICIT_CONSENT:
        raise DeclarationError(f"{category!r} is sensitive (PDPA s26): it needs explicit consent")
    column = registry.declaration(Registration, category)
    if wanted not in column.purposes:
        allowed = ", ".join(p.code for p in column.purposes)
        raise DeclarationError(f"{category!r} may be collected only for {allowed}, not {purpose!r}")


@transaction.atomic
def create_service(*, agency: Agency, slug: str, actor: object, **details: Any) -> Service:
    service = Service.objects.create(agency=agency, slug=slug, **details)
    record(
        action="services.service_created",
        actor=actor,
        agency_id=agency.pk,
        object_type="services.service",
        object_id=service.pk,
    )
    publishing.index_service(service=service)
    return service


@transaction.atomic
def change_service(*, service: Service, actor: object, **changes: Any) -> Service:
    """Saves an administrator's changes; seats added to an activity go to its waiting list at once."""
    locked = Service.objects.select_for_update().get(pk=service.pk)
    for name, value in changes.items():
        setattr(locked, name, value)
    if locked.is_activity:
        taken = seats_taken(locked)
        if (locked.capacity or 0) < taken:
            raise DeclarationError(f"{taken} seats are already taken: the capacity cannot be lower")
    locked.save()
    record(
        action="services.service_changed",
        actor=actor,
        agency_id=locked.agency_id,
        object_type="services.service",
        object_id=locked.pk,
        fields=sorted(changes),
    )
    if locked.is_activity:
        _promote_waiting(locked)
    publishing.index_service(service=locked)
    return locked


def seats_taken(service: Service) -> int:
    return Registration.objects.filter(service=service, status__in=SEAT_STATUSES).count()


@transaction.atomic
def declare_field(
    *,
    service: Service,
    category: str,
    purpose: str,
    legal_basis: str,
    required: bool = True,
    position: int | None = None,
    actor: object,
) -> ServiceField:
    check_field(category=category, purpose=purpose, legal_basis=legal_basis)
    if position is None:
        position = service.fields.count()
    field, _created = ServiceField.objects.update_or_create(
        service=service,
        category=category,
        defaults={"purpose": purpose, "legal_basis": legal_basis, "required": required, "position": position},
    )
    service.__dict__.pop("legal_bases", None)  # a grant through this instance records the new basis
    record(
        action="services.field_declared",
        actor=actor,
        agency_id=service.agency_id,
        object_type="services.service",
        object_id=service.pk,
        fields=[category],
        purpose=purpose,
        legal_basis=legal_basis,
    )
    return field


@transaction.atomic
def assign_officer(*, service: Service, staff: StaffMembership, actor: object) -> None:
    if staff.agency_id != service.agency_id:
        raise DeclarationError("an officer can be assigned only to services of their own agency")
    if staff.role != StaffRole.OFFICER:
        raise DeclarationError("only officers are assigned to services")
    service.officers.add(staff)
    service.__dict__.pop("officer_ids", None)  # the instance's access policy sees the new officer at once
    record(
        action="services.officer_assigned",
        actor=actor,
        agency_id=service.agency_id,
        object_type="services.service",
        object_id=service.pk,
    )


def current_notice(service: Service, in_force: list[ServiceField] | None = None) -> NoticeVersion:
    """The notice generated from the service's declaration now, stored once per distinct content
    (`in_force`: the service's fields in force, if the caller worked them out already)."""
    content = notices.build(service, in_force)
    digest = notices.digest(content)
    existing = NoticeVersion.objects.filter(service=service, digest=digest).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            number = (service.notices.order_by("-number").values_list("number", flat=True).first() or 0) + 1
            version = NoticeVersion.objects.create(service=service, number=number, digest=digest, content=content)
            record(
                action="services.notice_generated",
                agency_id=service.agency_id,
                object_type="services.noticeversion",
                object_id=version.pk,
            )
            return version
    except IntegrityError:
        # Another request stored the same notice (or took the number) at the same moment.
        return NoticeVersion.objects.get(service=service, digest=digest)


# Registering --------------------------------------------------------------------------------------
def register(
    *,
    service: Service,
    subject: Subject,
    values: dict[str, str],
    notice_number: int,
    submission_key: uuid.UUID,
    explicit_consents: Iterable[str] = (),
    actor: object,
    language: str | None = None,
) -> tuple[Registration, bool]:
    """The person's registration and whether it is new.

    The same submission key (a form sent twice) or a live registration of the same person for the
    same activity gives back the existing registration. Values go to the vault.
    """
    existing = _existing(service, subject, submission_key)
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            registration = _register(
                service=service,
                subject=subject,
                values=values,
                notice_number=notice_number,
                submission_key=submission_key,
                explicit_consents=list(explicit_consents),
                actor=actor,
                language=language or get_language() or "th",
            )
    except IntegrityError:
        existing = _existing(service, subject, submission_key)
        if existing is None:
            raise
        return existing, False
    return registration, True


def _existing(service: Service, subject: Subject, submission_key: uuid.UUID) -> Registration | None:
    by_key = Registration.objects.filter(submission_key=submission_key).first()
    if by_key is not None:
        if by_key.subject_id != subject.pk or by_key.service_id != service.pk:
            raise RegistrationRefusedError("this form was already used")
        return by_key
    if service.is_activity:
        return (
            Registration.objects.filter(service=service, subject=subject)
            .exclude(status__in=[Status.CANCELLED, Status.REJECTED])
            .first()
        )
    return None


def _register(
    *,
    service: Service,
    subject: Subject,
    values: dict[str, str],
    notice_number: int,
    submission_key: uuid.UUID,
    explicit_consents: list[str],
    actor: object,
    language: str,
) -> Registration:
    service = _held(service)
    if not service.is_open:
        raise ServiceClosedError("this service is not taking registrations")
    in_force = fields_in_force(list(service.fields.all()))
    declared = {field.category: field for field in in_force}
    undeclared = sorted(set(values) - set(declared))
    if undeclared:
        raise UndeclaredFieldError(f"not declared by this service: {', '.join(undeclared)}")
    missing = sorted(code for code, field in declared.items() if field.required and not values.get(code))
    if missing:
        raise RegistrationRefusedError(f"required: {', '.join(missing)}")
    sensitive = {code for code in values if declared[code].registry_category.sensitive}
    if not sensitive <= set(explicit_consents):
        raise RegistrationRefusedError("sensitive data needs the person's explicit consent")
    notice = current_notice(service, in_force)
    if notice.number != notice_number:
        raise NoticeChangedError("the notice at collection changed; it must be read again")
    status = Status.RECEIVED
    if service.is_activity:
        status = Status.RECEIVED if seats_taken(service) < (service.capacity or 0) else Status.WAITLISTED
    registration = Registration(
        service=service,
        subject=subject,
        controller_id=service.agency.controller_id,
        notice=notice,
        status=status,
        submission_key=submission_key,
        explicit_consents=sorted(sensitive),
        language=language,
    )
    for code, value in values.items():
        setattr(registration, code, value)
    save_sealed(registration)
    record(
        action="services.registered",
        actor=actor,
        agency_id=service.agency_id,
        subject_id=subject.pk,
        object_type=REGISTRATION,
        object_id=registration.pk,
        fields=sorted(values),
        purpose="service_delivery",
        legal_basis=_bases(declared.values(), values),
    )
    _mail_on_commit(registration, "confirmation")
    return registration


def _held(service: Service) -> Service:
    """The service, read again and held until the transaction ends. An activity's row is held alone:
    it orders registrations and cancellations for its seats. Any other service's row is held shared,
    so that its registrations run side by side (one at a time, a popular service queued every
    registrant behind the one before) while a change to the service, closing it, still waits for them.
    """
    held = Service.objects.select_related("agency")
    if not service.is_activity and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM services_service WHERE id = %s FOR SHARE", [service.pk])
        service = held.get(pk=service.pk)
        if not service.is_activity:
            return service
    return held.select_for_update(of=("self",)).get(pk=service.pk)


def _bases(declared: Iterable[ServiceField], values: Iterable[str]) -> str:
    given = set(values)
    return "/".join(sorted({field.legal_basis for field in declared if field.category in given}))


@transaction.atomic
def cancel_registration(*, registration: Registration, actor: object) -> Registration:
    """The person cancels; an activity's freed seat goes to the first on its waiting list."""
    service = _held(registration.service)
    registration = Registration.objects.select_for_update().get(pk=registration.pk)
    if registration.is_closed:
        return registration
    freed = registration.holds_seat
    registration.status = Status.CANCELLED
    registration.closed_at = timezone.now()
    registration.save(update_fields=["status", "closed_at", "updated_at"])
    record(
        action="services.cancelled",
        actor=actor,
        agency_id=service.agency_id,
        subject_id=registration.subject_id,
        object_type=REGISTRATION,
        object_id=registration.pk,
    )
    _mail_on_commit(registration, "cancelled")
    if freed and service.is_activity:
        _promote_waiting(service)
    return registration


def _promote_waiting(service: Service) -> None:
    """Gives free seats to the waiting list, first come first served, and tells those promoted."""
    free = (service.capacity or 0) - seats_taken(service)
    if free <= 0:
        return
    waiting = list(
        Registration.objects.select_for_update()
        .filter(service=service, status=Status.WAITLISTED)
        .order_by("created_at", "id")[:free]
    )
    for promoted in waiting:
        promoted.status = Status.RECEIVED
        promoted.save(update_fields=["status", "updated_at"])
        record(
            action="services.promoted_from_waiting_list",
            agency_id=service.agency_id,
            subject_id=promoted.subject_id,
            object_type=REGISTRATION,
            object_id=promoted.pk,
        )
        _mail_on_commit(promoted, "promoted")


# Officers -----------------------------------------------------------------------------------------
@transaction.atomic
def change_status(*, registration: Registration, staff: StaffMembership, status: str, reason: str = "") -> Registration:
    if status not in OFFICER_STATUSES:
        raise ValueError(f"officers do not set the status {status!r}")
    if status == Status.REJECTED and not reason.strip():
        raise ValueError("a rejection needs a reason")
    service = Service.objects.select_for_update().get(pk=registration.service_id)
    registration = Registration.objects.select_for_update().get(pk=registration.pk)
    if registration.erased_at is not None:
        raise CaseErasedError("this case's personal data was erased")
    if registration.status == Status.CANCELLED:
        raise CancelledByPersonError("the person cancelled this registration")
    takes_seat = service.is_activity and status in SEAT_STATUSES and not registration.holds_seat
    if takes_seat and seats_taken(service) >= (service.capacity or 0):
        raise NoSeatLeftError("the activity has no seat left for a registration on its waiting list")
    freed = registration.holds_seat and status not in SEAT_STATUSES
    registration.status = status
    registration.closed_at = timezone.now() if status in CLOSED_STATUSES else None
    registration.save(update_fields=["status", "closed_at", "updated_at"])
    _record_by_officer("services.status_changed", staff, registration)
    if reason.strip():
        _note(registration, staff, reason.strip(), NoteKind.DECISION)
    if freed and service.is_activity:
        _promote_waiting(service)
    return registration


@transaction.atomic
def add_note(*, registration: Registration, staff: StaffMembership, text: str) -> CaseNote:
    # Locked: a retention batch's UPDATE holds the case's row until it commits, so a note written meanwhile
    # waits for it and then sees the erasure, instead of landing beside it.
    locked = Registration.objects.select_for_update().get(pk=registration.pk)
    if locked.erased_at is not None:
        raise CaseErasedError("this case's personal data was erased")
    return _note(registration, staff, text, NoteKind.NOTE)


def _note(registration: Registration, staff: StaffMembership, text: str, kind: str) -> CaseNote:
    note = CaseNote(
        registration=registration,
        subject_id=registration.subject_id,
        controller_id=registration.controller_id,
        author=staff,
        kind=kind,
        text=text,
    )
    save_sealed(note)
    _record_by_officer(
        "services.note_added", staff, registration, record_type="services.casenote", record_id=note.pk, fields=["text"]
    )
    return note


@transaction.atomic
def notify_person(*, registration: Registration, staff: StaffMembership) -> None:
    """E-mails the person that their case has news; the mail gives the status and reference, no values."""
    _record_by_officer("services.person_notified", staff, registration)
    _mail_on_commit(registration, "status")


def _record_by_officer(
    action: str,
    staff: StaffMembership,
    registration: Registration,
    *,
    record_type: str = REGISTRATION,
    record_id: uuid.UUID | None = None,
    fields: Iterable[str] = (),
) -> None:
    record(
        action=action,
        actor=staff.user_id,
        role=staff.role,
        agency_id=staff.agency_id,
        subject_id=registration.subject_id,
        object_type=record_type,
        object_id=record_id or registration.pk,
        fields=fields,
        purpose="service_delivery",
    )


def _mail_on_commit(registration: Registration, kind: str) -> None:
    registration_id = str(registration.pk)
    transaction.on_commit(lambda: send_registration_mail.enqueue(registration_id=registration_id, kind=kind))
