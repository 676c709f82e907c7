"""Rights requests as cases, and erasure across every store the registry knows (PDPA s30-s36)."""

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from raksa.accounts.models import User
from raksa.audit import actions as audit
from raksa.organisations.models import Controller
from raksa.registry import RetentionClass, registry
from raksa.rights import finders
from raksa.rights.models import CLOSED, RequestEvent, RequestType, RightsRequest, Status
from raksa.subjects.models import Subject
from raksa.vault.actions import save_sealed, shred
from raksa.vault.models import DataKey
from raksa.vault.routers import KEYSTORE

# Days to answer, per request type; PDPA s30 gives 30 days for access. RAKSA_RIGHTS_DUE_DAYS overrides.
DEFAULT_DUE_DAYS: dict[str, int] = dict.fromkeys(RequestType.values, 30)

# Legal reasons a request may be refused for (codes go into the RoPA, s39).
REFUSAL_REASONS: dict[str, str] = {
    "pdpa_s30_law_or_court_order": "PDPA s30 paragraph 2: the law or a court order allows the refusal",
    "pdpa_s30_harms_others": "PDPA s30 paragraph 2: answering would harm the rights of others",
    "pdpa_s33_legal_obligation": "PDPA s33 paragraph 2: kept to comply with the law",
    "pdpa_s33_legal_claims": "PDPA s33 paragraph 2: kept for legal claims",
    "pdpa_s32_compelling_grounds": "PDPA s32: compelling legitimate grounds or a public task",
    "oia_s25_exempt": "Official Information Act B.E. 2540 s15/s25: exempt official information",
}


class RefusalWithoutReasonError(ValueError):
    """A request may be refused only with one of REFUSAL_REASONS."""


def due_date_for(request_type: str, received_at: datetime) -> date:
    days = {**DEFAULT_DUE_DAYS, **getattr(settings, "RAKSA_RIGHTS_DUE_DAYS", {})}[request_type]
    return timezone.localdate(received_at) + timedelta(days=days)


def _event(request: RightsRequest, *, status: str, actor: User | None, note: str = "") -> None:
    RequestEvent.objects.create(request=request, status=status, at=timezone.now(), actor=actor, note=note)


def file_request(*, subject: Subject, type: str, details: str = "", actor: User | None = None) -> RightsRequest:
    """Receives a request: its due date follows from its type and the time it was received."""
    if type not in RequestType.values:
        raise ValueError(f"unknown request type {type!r}")
    now = timezone.now()
    with transaction.atomic():
        request = RightsRequest(
            subject=subject,
            controller=Controller.objects.get(is_platform_operator=True),
            type=type,
            details=details or None,
            received_at=now,
            due_date=due_date_for(type, now),
        )
        save_sealed(request)
        _event(request, status=Status.RECEIVED, actor=actor)
        audit.record(
            action="rights.request.file",
            actor=actor,
            subject_id=subject.id,
            object_type="rights.rightsrequest",
            object_id=request.id,
            purpose="rights_requests",
        )
    return request


def set_status(
    *, request: RightsRequest, status: str, actor: User | None, refusal_reason: str = "", error: str = ""
) -> None:
    """Moves a case on; a refusal carries its legal reason, a failed step its error (codes only)."""
    if status == Status.REFUSED and refusal_reason not in REFUSAL_REASONS:
        raise RefusalWithoutReasonError(refusal_reason)
    with transaction.atomic():
        request.status = status
        request.refusal_reason = refusal_reason if status == Status.REFUSED else ""
        request.last_error = error if status == Status.FAILED else ""
        request.closed_at = timezone.now() if status in CLOSED else None
        request.save(update_fields=["status", "refusal_reason", "last_error", "closed_at"])
        _event(request, status=status, actor=actor, note=refusal_reason or error)
        audit.record(
            action=f"rights.request.{status}",
            actor=actor,
            subject_id=request.subject_id,
            object_type="rights.rightsrequest",
            object_id=request.id,
            purpose="rights_requests",
            legal_basis=refusal_reason,
        )


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


def _kept_by_law(retention: RetentionClass) -> bool:
    return bool(retention.law) and retention.period_days is not None


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
    kept = {item.retention.code for item in plan.kept}
    classes = set(
        DataKey.objects.using(KEYSTORE)
        .filter(subject_id=subject.id, destroyed_at__isnull=True)
        .values_list("retention", flat=True)
    )
    for code in sorted(classes - kept):
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
