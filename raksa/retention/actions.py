"""The retention app's writes: placing and ending legal holds, and running the engine (all audited)."""

import datetime
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import router, transaction
from django.utils import timezone

from raksa.audit.actions import record
from raksa.organisations.models import StaffMembership
from raksa.retention import engine
from raksa.retention import holds as legal_holds
from raksa.retention.models import LegalHold
from raksa.retention.rules import Rule
from raksa.vault import actions as vault

RUN_PURPOSE = "retention"
# Rows per transaction: small enough that no lock is held for long, large enough to be fast.
BATCH_SIZE = 2000


@transaction.atomic
def place_hold(
    *,
    staff: StaffMembership,
    reason: str,
    ends_on: datetime.date,
    subject_id: uuid.UUID | None = None,
    case_id: uuid.UUID | None = None,
    service_id: int | None = None,
    covers_from: datetime.datetime | None = None,
    covers_until: datetime.datetime | None = None,
) -> LegalHold:
    """A hold owned by the staff member who places it; the form has checked reason, scope and dates."""
    hold = LegalHold.objects.create(
        agency_id=staff.agency_id,
        reason=reason,
        owner_id=staff.user_id,
        subject_id=subject_id,
        case_id=case_id,
        service_id=service_id,
        covers_from=covers_from,
        covers_until=covers_until,
        ends_on=ends_on,
    )
    _record_hold("retention.hold_placed", hold, staff)
    return hold


@transaction.atomic
def end_hold(*, staff: StaffMembership, hold: LegalHold) -> LegalHold:
    """Ends a hold before its date: what it kept leaves at the next run if its period is over."""
    hold.ended_at = timezone.now()
    hold.ended_by_id = staff.user_id
    hold.save(update_fields=["ended_at", "ended_by"])
    _record_hold("retention.hold_ended", hold, staff)
    return hold


def _record_hold(action: str, hold: LegalHold, staff: StaffMembership) -> None:
    record(
        action=action,
        actor=staff.user_id,
        role=staff.role,
        agency_id=staff.agency_id,
        subject_id=hold.subject_id,
        object_type="retention.legalhold",
        object_id=hold.pk,
        purpose="legal_hold",
    )


@dataclass
class RuleOutcome:
    rule: Rule
    by_agency: Counter[int | None] = field(default_factory=Counter)
    keys_destroyed: int = 0
    warned: int = 0

    @property
    def total(self) -> int:
        return sum(self.by_agency.values())


def run_retention(
    *, now: datetime.datetime | None = None, only: Iterable[str] = (), batch_size: int = BATCH_SIZE
) -> list[RuleOutcome]:
    """Runs every rule (or the named ones) as of `now`, except those the database owner carries out."""
    now = now or timezone.now()
    return [run_rule(rule, now=now, batch_size=batch_size) for rule in engine.selected(only) if not rule.owner_only]


def run_rule(rule: Rule, *, now: datetime.datetime, batch_size: int = BATCH_SIZE) -> RuleOutcome:
    """Warns whom the rule warns, then ends its rows in batches of primary keys, each batch one short
    transaction with its audit entries: per agency, the rule's code as the object type and the count
    as the object ID (never a value, never a person). A stopped run resumes at the next one."""
    rule.checked_period()
    outcome = RuleOutcome(rule=rule)
    if rule.warn is not None:
        outcome.warned = rule.warn(now)
        if outcome.warned:
            _record_run("retention.people_warned", rule, None, outcome.warned)
    holds = legal_holds.in_force(now)
    model = rule.due(now).model
    columns = ["pk", *(lookup for lookup in (rule.agency, rule.subject, rule.controller) if lookup)]
    last_pk = None
    while True:
        rows = engine.ending(rule, now, holds).order_by("pk")
        if last_pk is not None:
            # Past the last batch: a rule that leaves rows in place never sees one twice.
            rows = rows.filter(pk__gt=last_pk)
        with transaction.atomic(using=router.db_for_write(model)):
            batch = list(rows.values(*columns)[:batch_size])
            if not batch:
                break
            ids = [row["pk"] for row in batch]
            # The batch is the ending rows up to its last key: the same query, bounded, not a list of keys.
            rule.end_rows(rows.filter(pk__lte=ids[-1]).order_by(), now)
            in_range = model._default_manager.filter(pk__lte=ids[-1])
            if last_pk is not None:
                in_range = in_range.filter(pk__gt=last_pk)
            vault.drop_indexes(model=model, object_ids=ids)
            counts = Counter(row[rule.agency] if rule.agency else engine.PLATFORM for row in batch)
            for agency_id, count in counts.items():
                _record_run("retention.records_ended", rule, agency_id, count)
            if rule.shred and rule.retention is not None and rule.subject:
                destroyed = vault.shred_unused_keys(
                    retention=rule.retention.code,
                    scopes={(row[rule.subject], row[rule.controller] if rule.controller else None) for row in batch},
                    subjects=in_range.values(rule.subject),
                )
                if destroyed:
                    _record_run("retention.keys_destroyed", rule, None, destroyed)
                outcome.keys_destroyed += destroyed
        last_pk = ids[-1]
        outcome.by_agency.update(counts)
    return outcome


def _record_run(action: str, rule: Rule, agency_id: int | None, count: int) -> None:
    record(action=action, agency_id=agency_id, object_type=rule.code, object_id=count, purpose=RUN_PURPOSE)
