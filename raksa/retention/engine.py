"""The retention engine's reads: which rows each rule ends at a given time, and the plan (a dry run).

Ending them is `raksa.retention.actions.run_retention`, which uses `ending` so that the plan's
counts are what a run at the same time removes.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

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

    @property
    def total(self) -> int:
        return sum(self.by_agency.values())


def ending(rule: Rule, now: datetime.datetime, holds: list[LegalHold]) -> QuerySet:
    """The rows of the rule that end at `now`: past their period and kept by no hold in force."""
    due = rule.due(now)
    kept = legal_holds.kept_by_any(holds, rule)
    return due if kept is None else due.exclude(kept)


def _by_agency(rows: QuerySet, rule: Rule) -> dict[int | None, int]:
    if rule.agency is None:
        count = rows.count()
        return {PLATFORM: count} if count else {}
    return {
        row[rule.agency]: row["rows"]
        for row in rows.order_by().values(rule.agency).annotate(rows=Count("pk"))
        if row["rows"]
    }


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
        plans.append(
            RulePlan(
                rule=rule,
                period=period,
                by_agency=_by_agency(ending(rule, now, holds), rule),
                held=held,
                warnings=warnings,
            )
        )
    return plans


def selected(only: Iterable[str]) -> tuple[Rule, ...]:
    wanted = set(only)
    return tuple(rule for rule in rules() if not wanted or rule.code in wanted)
