"""Whether a person's data may be processed for a purpose: the one question every processing asks (PDPA
s32, s34).

A restriction (s34) or an upheld objection (s32) is a `ProcessingLimit` in force. The staff gateway
withholds values read for a limited purpose (raksa.audit.gateway), consent-based processing treats the
consent as not live (raksa.consent.actions.has_live_consent: pre-filling, mailings and surveys, disclosures
on consent), and a disclosure is refused unless a legal duty or order requires it
(raksa.disclosures.actions.disclose). Writes: raksa.subjects.actions.limit_processing / lift_limits.
"""

import uuid
from collections.abc import Iterable

from django.db.models import Q, QuerySet

from raksa.subjects.models import ProcessingLimit

# A restriction of every purpose it may cover.
ALL = "*"
# What no restriction or objection stops: the person's own requests being answered (the law's duty, and
# legal claims), investigating an incident under the law that keeps access logs (CCA s26), and the log-in
# the person needs to follow their request. Keeping the data is not a purpose here: it stays.
NEVER_LIMITED = frozenset({"rights_requests", "incident_investigation", "account_operation"})


def _in_force(purpose: str) -> QuerySet[ProcessingLimit]:
    return ProcessingLimit.objects.filter(Q(purpose=purpose) | Q(purpose=ALL), ended_at__isnull=True)


def limited_subjects(purpose: str) -> QuerySet:
    """The subject IDs whose data is not processed for this purpose now, as a subquery."""
    if purpose in NEVER_LIMITED:
        return ProcessingLimit.objects.none().values("subject_id")
    return _in_force(purpose).values("subject_id")


def is_limited(subject_id: uuid.UUID | str, purpose: str) -> bool:
    return purpose not in NEVER_LIMITED and _in_force(purpose).filter(subject_id=subject_id).exists()


def limited_among(subject_ids: Iterable[uuid.UUID], purpose: str) -> set[uuid.UUID]:
    """Which of these people's data is not processed for this purpose now (one query for a screen)."""
    wanted = {subject_id for subject_id in subject_ids if subject_id is not None}
    if purpose in NEVER_LIMITED or not wanted:
        return set()
    return set(_in_force(purpose).filter(subject_id__in=wanted).values_list("subject_id", flat=True))


def in_force(subject_id: uuid.UUID | str) -> QuerySet[ProcessingLimit]:
    """The person's limits in force, for their own pages and the officer's."""
    return ProcessingLimit.objects.filter(subject_id=subject_id, ended_at__isnull=True).order_by("started_at", "id")
