"""'Who looked at my data': the audit entries about one person that staff made, as they may see them.

Entries under a lawful viewing hold (ViewingHold) stay out of the list until the hold's date, then
appear with their original time; nothing in the log changes.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.apps import apps
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from raksa.audit.models import AuditEntry, Outcome, ViewingHold
from raksa.registry import registry


def entries_about(subject_id: uuid.UUID, *, now: datetime | None = None) -> QuerySet[AuditEntry]:
    """Staff actions about this subject that no live hold hides, newest first."""
    now = now or timezone.now()
    hidden = ViewingHold.objects.filter(
        subject_id=subject_id,
        agency_id=OuterRef("agency_id"),
        covers_from__lte=OuterRef("time"),
        covers_until__gte=OuterRef("time"),
        hidden_until__gt=now,
    )
    return (
        AuditEntry.objects.filter(subject_id=subject_id)
        .exclude(role="")
        .exclude(Exists(hidden))
        .select_related("actor", "agency")
        .order_by("-time", "-id")
    )


@dataclass(frozen=True)
class Look:
    """One entry in words a person understands."""

    entry: AuditEntry
    what: list[str]
    why: str
    basis: str
    result: str


def describe(entry: AuditEntry) -> Look:
    return Look(
        entry=entry,
        what=_field_labels(entry),
        why=_label("purpose", entry.purpose),
        basis=_label("legal_basis", entry.legal_basis),
        result=_result(entry),
    )


def _result(entry: AuditEntry) -> str:
    if entry.outcome != Outcome.ALLOWED:
        return gettext("refused")
    return gettext("read") if entry.action == "gateway.read" else gettext("worked on your case")


def _field_labels(entry: AuditEntry) -> list[str]:
    try:
        model = apps.get_model(entry.object_type)
    except (LookupError, ValueError):
        return entry.field_names
    labels = []
    for name in entry.field_names:
        try:
            labels.append(registry.declaration(model, name).category.label)
        except LookupError:
            labels.append(name)
    return labels


def _label(kind: str, code: str) -> str:
    if not code:
        return ""
    try:
        item = registry.purpose(code) if kind == "purpose" else registry.legal_basis(code)
    except KeyError:
        return code
    return item.label
