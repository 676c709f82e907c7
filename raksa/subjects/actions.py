import uuid
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from raksa.audit.actions import record
from raksa.subjects import limits
from raksa.subjects.models import LimitKind, ProcessingLimit, Subject
from raksa.vault.actions import Shredded, shred


@transaction.atomic
def create_subject() -> Subject:
    """A new data subject: an opaque ID that personal data will point to."""
    return Subject.objects.create()


def erase_subject(*, subject: Subject, controller_id: int | None = None, retention: str | None = None) -> Shredded:
    """Erases a person's data by destroying their keys and blind indexes (all, or one controller's or
    one retention class's). The Subject row stays: the audit log names it, and it now links to nobody."""
    return shred(subject_id=subject.id, controller_id=controller_id, retention=retention)


def limit_processing(
    *, subject: Subject, kind: str, purposes: Iterable[str], reference: uuid.UUID | None, actor: object
) -> list[ProcessingLimit]:
    """Puts a restriction (PDPA s34) or an upheld objection (s32) in force for these purposes (or
    `limits.ALL`), each audited; from the commit on, raksa.subjects.limits stops their processing."""
    wanted = sorted(set(purposes))
    if kind not in LimitKind.values or not wanted or set(wanted) & limits.NEVER_LIMITED:
        raise ValueError("a limit needs its kind and purposes a limit may cover")
    now = timezone.now()
    with transaction.atomic():
        created = [
            ProcessingLimit.objects.create(
                subject=subject, kind=kind, purpose=purpose, reference=reference, started_at=now
            )
            for purpose in wanted
        ]
        for limit in created:
            _audit_limit(limit, "subjects.limit_processing", actor)
    return created


def lift_limits(*, subject: Subject, reference: uuid.UUID, actor: object) -> int:
    """Ends the limits put in force by this reference (the rights request), each audited."""
    with transaction.atomic():
        lifted = list(
            ProcessingLimit.objects.select_for_update().filter(
                subject=subject, reference=reference, ended_at__isnull=True
            )
        )
        now = timezone.now()
        for limit in lifted:
            limit.ended_at = now
            limit.save(update_fields=["ended_at"])
            _audit_limit(limit, "subjects.lift_limit", actor)
    return len(lifted)


def _audit_limit(limit: ProcessingLimit, action: str, actor: object) -> None:
    record(
        action=action,
        actor=actor,
        subject_id=limit.subject_id,
        object_type="subjects.processinglimit",
        object_id=limit.pk,
        purpose="" if limit.purpose == limits.ALL else limit.purpose,
        legal_basis="pdpa_s34" if limit.kind == LimitKind.RESTRICTION else "pdpa_s32",
    )
