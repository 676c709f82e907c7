"""Which rows of a rule the legal holds in force keep.

A hold covers a row when each scope it sets matches the row; a scope the rule's store cannot name
(a service hold and the log-in tokens) means the hold does not cover that store at all. A hold is
its agency's: it keeps only rows of that agency, and none of the stores that belong to no agency
(accounts, data-subject requests). A hold placed by the platform operator's DPO (the agency of the
controller that runs the shared accounts) is the platform's: it reaches every agency and those stores.
"""

import datetime

from django.db.models import Q
from django.utils import timezone

from raksa.retention.models import LegalHold
from raksa.retention.rules import Rule


def in_force(now: datetime.datetime) -> list[LegalHold]:
    return list(
        LegalHold.objects.filter(ended_at__isnull=True, ends_on__gte=timezone.localdate(now))
        .select_related("agency__controller")
        .order_by("placed_at")
    )


def is_platform_hold(hold: LegalHold) -> bool:
    return hold.agency.controller.is_platform_operator


def covering(hold: LegalHold, rule: Rule) -> Q | None:
    """The rows of the rule's store this hold keeps, or None if it keeps none of them."""
    platform = is_platform_hold(hold)
    if not platform and rule.agency is None:
        return None
    conditions: list[Q] = []
    for value, lookup in (
        (hold.subject_id, rule.subject),
        (hold.case_id, rule.case),
        (hold.service_id, rule.service),
    ):
        if value is None:
            continue
        if lookup is None:
            return None
        conditions.append(Q(**{lookup: value}))
    if hold.covers_from is not None and hold.covers_until is not None:
        if rule.time is None:
            return None
        conditions.append(Q(**{f"{rule.time}__gte": hold.covers_from, f"{rule.time}__lt": hold.covers_until}))
    if not conditions:
        return None
    if rule.agency is not None and not platform:
        conditions.append(Q(**{rule.agency: hold.agency_id}))
    combined = conditions[0]
    for condition in conditions[1:]:
        combined &= condition
    return combined


def kept_by_any(holds: list[LegalHold], rule: Rule) -> Q | None:
    """The rows of the rule's store that any of these holds keeps, or None."""
    combined: Q | None = None
    for hold in holds:
        condition = covering(hold, rule)
        if condition is not None:
            combined = condition if combined is None else combined | condition
    return combined
