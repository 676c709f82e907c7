"""The retention engine's reads: which rows each rule ends at a given time, and the plan (a dry run).

Ending them is `raksa.retention.actions.run_retention`, which uses `ending` so that the plan's
counts are what a run at the same time removes.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, QuerySet

from raksa.retention import holds as legal_holds
from raksa.retention.models import LegalHold
from raksa.retention.rules import Period, Rule, rules

PLATFORM = None  # the agency "key" of stores that belong to no agency (accounts)


@dataclass(frozen=True)
class HeldCount:
    hold: LegalHold
    rows: int


@dataclass
class RulePlan:
    rule: Rule
    period: Period
    by_agency: dict[int | None, int]
    held: list[HeldCount]
    warnings: int = 0
    by_day: dict[datetime.date, int] = field(default_factory=dict)
    # What the store's own holds keep (the access log's): a description and a count each.
    own_held: list[tuple[str, int]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.by_agency.values())


def ending(rule: Rule, now: datetime.datetime, holds: list[LegalHold]) -> QuerySet:
    """The rows of the rule that end at `now`: past their period and kept by no hold in force."""
    due = rule.due(now)
    kept = legal_holds.kept_by_any(holds, rule)
    return due if kept is None else due.exclude(kept)


def by_agency(rows: QuerySet, rule: Rule) -> dict[int | None, int]:
    if rule.agency is None:
        count = rows.count()
        return {PLATFORM: count} if count else {}
    return {
        row[rule.agency]: row["rows"]
        for row in rows.order_by().values(rule.agency).annotate(rows=Count("pk"))
        if row["rows"]
    }


def _by_day(rows: QuerySet, day: str) -> dict[datetime.date, int]:
    counted = rows.order_by().values(day).annotate(rows=Count("pk")).order_by(day)
    return {row[day]: row["rows"] for row in counted}


def plan(*, now: datetime.datetime, only: Iterable[str] = ()) -> list[RulePlan]:
    """What a run at `now` would end, rule by rule and agency by agency, and what each hold keeps."""
    holds = legal_holds.in_force(now)
    plans = []
    for rule in selected(only):
        period = rule.checked_period()
        held = []
        for hold in holds:
            condition = legal_holds.covering(hold, rule)
            if condition is not None:
                kept = rule.due(now).filter(condition).count()
                if kept:
                    held.append(HeldCount(hold=hold, rows=kept))
        warnings = rule.warn_due(now).count() if rule.warn_due is not None else 0
        rows = ending(rule, now, holds)
        plans.append(
            RulePlan(
                rule=rule,
                period=period,
                by_agency=by_agency(rows, rule),
                held=held,
                warnings=warnings,
                by_day=_by_day(rows, rule.day) if rule.day else {},
                own_held=rule.own_holds(now) if rule.own_holds is not None else [],
            )
        )
    return plans


def selected(only: Iterable[str]) -> tuple[Rule, ...]:
    wanted = set(only)
    return tuple(rule for rule in rules() if not wanted or rule.code in wanted)
