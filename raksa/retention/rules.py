"""The retention rules: for each store of personal data, what expires, after how long, and how it ends.

Each app registers its stores' rules in its own `retention.py` (imported when the retention app is
ready), like `personal_data.py` for the registry::

    from raksa.retention.rules import Period, Rule, register

    register(Rule(
        code="consent.inquiry",
        model="consent.Inquiry",
        label_th="คำถามถึงเจ้าหน้าที่คุ้มครองข้อมูลส่วนบุคคล",
        label_en="questions to the DPO",
        retention=INQUIRY,
        period=lambda: Period.of_class(INQUIRY),
        due=lambda now: Inquiry.objects.filter(answered_at__lte=now - ...),
        agency="agency_id",
        subject="subject_id",
        time="received_at",
    ))

A period is never a number of its own: it is read from the registry's retention class, a setting
or a row (a service's days), and it is checked when read (`check_period`): zero or negative, or
shorter than the legal minimum the registry knows, is refused. The policy and the RoPA print the
periods from here (`describe`), so the published retention is the enforced one.
"""

import datetime
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet

from raksa.registry import RetentionClass, model_label


class RuleRefusedError(ImproperlyConfigured):
    """A retention rule or period that the law or common sense refuses; the message is in Thai and English."""


class Ending(StrEnum):
    DELETE = "delete"
    ANONYMISE = "anonymise"


def legal_minimum_days(retention: RetentionClass) -> int | None:
    """The days a law makes the agency keep data of this class, if any (the class names the law)."""
    return retention.period_days if retention.law else None


def check_period(period: datetime.timedelta, *, retention: RetentionClass | None, where: str) -> datetime.timedelta:
    """The period itself, or RuleRefusedError when it is zero, negative, or under the class's legal minimum."""
    if period <= datetime.timedelta(0):
        raise RuleRefusedError(
            f"{where}: ระยะเวลาเก็บรักษาต้องมากกว่าศูนย์ / the retention period must be longer than zero ({period})"
        )
    minimum = legal_minimum_days(retention) if retention is not None else None
    if minimum is not None and period < datetime.timedelta(days=minimum):
        assert retention is not None
        raise RuleRefusedError(
            f"{where}: ระยะเวลาเก็บรักษาสั้นกว่าที่กฎหมายกำหนด ({minimum} วัน ตาม {retention.law}) / "
            f"the retention period is shorter than the legal minimum of {minimum} days ({period.days} days)"
        )
    return period


@dataclass(frozen=True)
class Period:
    """How long a store keeps its records after the event that starts the clock, in both languages."""

    length: datetime.timedelta
    starts_when_th: str
    starts_when_en: str
    # Where the length comes from (a retention class, a setting), for the plan.
    source: str
    # Each row may be kept less (a service sets its own days within its class): the length is a bound.
    at_most: bool = False

    @classmethod
    def of_class(cls, retention: RetentionClass) -> "Period":
        if retention.period_days is None:
            raise RuleRefusedError(f"{retention.code}: ชั้นการเก็บรักษานี้ไม่มีระยะเวลา / this retention class has no period")
        return cls(
            length=datetime.timedelta(days=retention.period_days),
            starts_when_th=retention.starts_when_th,
            starts_when_en=retention.starts_when_en,
            source=f"registry:{retention.code}",
        )

    def text(self, language: str) -> str:
        """ "2 years after the case is closed" / "48 ชั่วโมงนับจาก…", for the policy and the RoPA."""
        event = self.starts_when_en if language == "en" else self.starts_when_th
        amount, unit_th, unit_en = _amount(self.length)
        if language == "en":
            bound = "at most " if self.at_most else ""
            return f"{bound}{amount} {unit_en if amount != 1 else unit_en.rstrip('s')} after {event}"
        bound = "ไม่เกิน " if self.at_most else ""
        return f"{bound}{amount} {unit_th}นับจาก{event}"


def _amount(length: datetime.timedelta) -> tuple[int, str, str]:
    if length.days >= 2 and not length.seconds:
        return length.days, "วัน", "days"
    hours = int(length.total_seconds() // 3600)
    if hours and length.total_seconds() % 3600 == 0:
        return hours, "ชั่วโมง", "hours"
    return int(length.total_seconds() // 60), "นาที", "minutes"


@dataclass(frozen=True)
class Rule:
    """One store's retention: `due(now)` is the queryset of its rows past their period at `now`.

    `end(rows)` ends a batch of them (deletes by default) and returns how many ended. The lookups
    name, from a row, its agency (for counting), its controller (whose keys seal it), and what a legal
    hold can name: its subject, its case, its service and its time. With `shred`, the data keys of
    `retention` that no longer seal any stored value of the batch's people are destroyed after each
    batch (raksa.vault.actions.shred_unused_keys).
    """

    code: str
    model: str
    label_th: str
    label_en: str
    period: Callable[[], Period]
    due: Callable[[datetime.datetime], QuerySet]
    retention: RetentionClass | None = None
    ending: Ending = Ending.DELETE
    end: Callable[[QuerySet, datetime.datetime], int] | None = None
    # Rows of other tables that go with a batch's rows (a registration's case notes), ended first,
    # given the batch and its IDs as hex text (read once with the batch): on SQLite finding the batch
    # again cost more than probing by the IDs.
    end_dependents: Callable[[QuerySet, list[str]], int] | None = None
    agency: str | None = None
    subject: str | None = None
    controller: str | None = None
    case: str | None = None
    service: str | None = None
    time: str | None = None
    shred: bool = False
    # The order batches are taken in, ending with the primary key (a unique tie-break). An index of
    # the store should serve it; the order rows were last written in (a case's closing time) keeps
    # each batch's rows on neighbouring pages, where random UUID keys scatter them over the table.
    order: tuple[str, ...] = ("pk",)
    # People to warn before their records end (the inactive accounts): `warn(now)` sends and counts.
    warn: Callable[[datetime.datetime], int] | None = None
    warn_due: Callable[[datetime.datetime], QuerySet] | None = None
    # Why the run leaves this store to the database owner (the plan still counts what is due), and
    # what `raksa retention run --owner` does instead of batches: ends all that is due at `now`
    # (one transaction) and returns how many it ended, by agency.
    owner_only: str = ""
    owner_end: Callable[[datetime.datetime], Counter[int | None]] | None = None
    # A store whose own command ends its records (the access log's purge): `retention run` leaves it,
    # the plan shows it, counted by `day` (a lookup) and with what its own holds keep (`own_holds`).
    run_by: str = ""
    day: str | None = None
    own_holds: Callable[[datetime.datetime], list[tuple[str, int]]] | None = None

    @property
    def label(self) -> str:
        from django.utils.translation import get_language

        return self.label_en if get_language() == "en" else self.label_th

    def checked_period(self) -> Period:
        period = self.period()
        check_period(period.length, retention=self.retention, where=self.code)
        return period

    def end_rows(self, rows: QuerySet, now: datetime.datetime) -> int:
        if self.end is not None:
            return self.end(rows, now)
        deleted, by_model = rows.delete()
        return by_model.get(rows.model._meta.label, deleted)


_RULES: dict[str, Rule] = {}


def register(rule: Rule) -> Rule:
    """Adds a store's rule. A code is one store's, once."""
    if rule.code in _RULES and _RULES[rule.code] != rule:
        raise ImproperlyConfigured(f"the retention rule {rule.code!r} is registered twice")
    _RULES[rule.code] = rule
    return rule


def unregister(code: str) -> None:
    del _RULES[code]


def rules() -> tuple[Rule, ...]:
    return tuple(_RULES.values())


def rule(code: str) -> Rule:
    return _RULES[code]


def rule_for_model(model: str) -> Rule | None:
    """The first rule of this store (by model label), for the policy's and RoPA's retention text."""
    label = model_label(model)
    return next((found for found in _RULES.values() if model_label(found.model) == label), None)


def describe(model: str, language: str) -> str | None:
    """The store's retention as the policy prints it, or None when no rule covers the store."""
    found = rule_for_model(model)
    if found is None:
        return None
    return found.checked_period().text(language)
