"""Writing audit entries.

`record` inserts in the caller's transaction, so a change and its entry commit (or roll back)
together. `record_committed` returns only once the entry is durably committed, even inside a
transaction; the gateway uses it so that no value leaves before its entry is written.
Entries are inserted unchained; the sequencer (raksa.audit.sequencer) chains them after commit.
"""

import re
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model
from django.db.models.sql import InsertQuery
from django.db.utils import load_backend
from django.utils.module_loading import import_string

from raksa.audit.context import current_request_id
from raksa.audit.models import AuditEntry, Outcome, ViewingHold

DATABASE = DEFAULT_DB_ALIAS

_ACTION = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
_NAME = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")
# Codes, not prose: a space or an @ is where a name or an address would sneak in.
_CODE = re.compile(r"[A-Za-z0-9_.:()/-]*")
_OBJECT_ID = re.compile(r"[A-Za-z0-9_-]*")


# What an entry holds when the caller does not say (as record()'s keyword defaults).
_OPTIONAL: dict[str, Any] = {
    "actor": None,
    "role": "",
    "agency_id": None,
    "subject_id": None,
    "object_type": "",
    "object_id": "",
    "fields": (),
    "purpose": "",
    "legal_basis": "",
    "outcome": Outcome.ALLOWED,
    "request_id": None,
}


class AuditNotDurableError(RuntimeError):
    """The entry could not be committed apart from the caller's transaction; nothing was written."""


class AccessNotRecordedError(RuntimeError):
    """The request's access record cannot be written (a full spool disk): no entry, and no action."""


def record(
    *,
    action: str,
    actor: object = None,
    role: str = "",
    agency_id: int | None = None,
    subject_id: uuid.UUID | str | None = None,
    object_type: str = "",
    object_id: str | int | uuid.UUID = "",
    fields: Iterable[str] = (),
    purpose: str = "",
    legal_basis: str = "",
    outcome: str = Outcome.ALLOWED,
    request_id: str | None = None,
) -> AuditEntry:
    """Insert an entry in the current transaction (or commit it at once outside one)."""
    entry = _entry(**locals())
    entry.save(using=DATABASE, force_insert=True)
    return entry


def record_committed(
    *,
    action: str,
    actor: object = None,
    role: str = "",
    agency_id: int | None = None,
    subject_id: uuid.UUID | str | None = None,
    object_type: str = "",
    object_id: str | int | uuid.UUID = "",
    fields: Iterable[str] = (),
    purpose: str = "",
    legal_basis: str = "",
    outcome: str = Outcome.ALLOWED,
    request_id: str | None = None,
) -> AuditEntry:
    """Commit an entry before returning, whatever transaction the caller is in; raise if it cannot.

    Outside a transaction the entry commits on its own. Inside one, on PostgreSQL, it commits on a
    connection of its own, so it stays written even if the caller's transaction rolls back. SQLite
    has a single writer and Raksa opens every transaction with BEGIN IMMEDIATE, so the caller's
    transaction already holds the write lock that a second connection would wait for until it timed
    out: there, inside a transaction, this raises AuditNotDurableError at once and writes nothing.
    (Django's TestCase wraps each test in a transaction; that one does not count, as for
    `atomic(durable=True)`.)
    """
    return record_many_committed([locals()])[0]


def record_many_committed(entries: Sequence[dict[str, Any]]) -> list[AuditEntry]:
    """`record_committed` for many entries at once (a list screen): one INSERT, one commit."""
    built = [_entry(**(_OPTIONAL | dict(arguments))) for arguments in entries]
    connection = connections[DATABASE]
    if not _in_transaction(connection):
        with transaction.atomic(using=DATABASE, durable=True):
            return AuditEntry.objects.using(DATABASE).bulk_create(built)
    if connection.vendor == "sqlite":
        raise AuditNotDurableError(
            "On SQLite an audit entry cannot be committed apart from an open transaction "
            "(one writer at a time); call this outside transaction.atomic()."
        )
    _insert_on_own_connection(built, connection)
    return built


def _in_transaction(connection: BaseDatabaseWrapper) -> bool:
    if not connection.in_atomic_block:
        return not connection.get_autocommit()
    return not all(getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


def _insert_on_own_connection(entries: list[AuditEntry], connection: BaseDatabaseWrapper) -> None:
    own = load_backend(connection.settings_dict["ENGINE"]).DatabaseWrapper(dict(connection.settings_dict), DATABASE)
    try:
        meta = AuditEntry._meta
        fields = [field for field in meta.local_concrete_fields if field is not meta.auto_field]
        query = InsertQuery(AuditEntry)
        query.insert_values(fields, list[Model](entries))
        # Autocommit: the INSERT is committed when execute_sql returns.
        returned = query.get_compiler(connection=own).execute_sql([meta.pk])
        for entry, row in zip(entries, returned, strict=True):
            entry.pk = row[0]
            entry._state.adding = False
            entry._state.db = DATABASE
    finally:
        own.close()


def _entry(
    *,
    action: str,
    actor: object,
    role: str,
    agency_id: int | None,
    subject_id: uuid.UUID | str | None,
    object_type: str,
    object_id: str | int | uuid.UUID,
    fields: Iterable[str],
    purpose: str,
    legal_basis: str,
    outcome: str,
    request_id: str | None,
) -> AuditEntry:
    problem = import_string(settings.RAKSA_AUDIT_ACCESS_RECORD_CHECK)()
    if problem is not None:
        raise AccessNotRecordedError(f"the access log cannot record this request: {problem}")
    field_names = list(fields)
    _check(_ACTION, action, "action", 64, required=True)
    _check(_NAME, role, "role", 20)
    _check(_NAME, object_type, "object_type", 64)
    _check(_OBJECT_ID, str(object_id), "object_id", 64)
    for name in field_names:
        _check(_NAME, name, "field name", 64, required=True)
    _check(_CODE, purpose, "purpose", 64)
    _check(_CODE, legal_basis, "legal_basis", 64)
    if outcome not in Outcome.values:
        raise ValueError(f"outcome must be one of {Outcome.values}, not {outcome!r}")
    request_id = request_id if request_id is not None else current_request_id() or ""
    _check(_OBJECT_ID, request_id, "request_id", 64)
    return AuditEntry(
        actor_id=_actor_id(actor),
        role=role,
        agency_id=agency_id,
        subject_id=uuid.UUID(str(subject_id)) if subject_id is not None else None,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        fields=",".join(field_names),
        purpose=purpose,
        legal_basis=legal_basis,
        request_id=request_id,
        outcome=outcome,
    )


def _actor_id(actor: object) -> uuid.UUID | None:
    """A user, a user's ID, or None; an anonymous visitor is None too."""
    if actor is None or not getattr(actor, "is_authenticated", True):
        return None
    if isinstance(actor, Model):
        actor = actor.pk
    return actor if isinstance(actor, uuid.UUID) else uuid.UUID(str(actor))


def _check(pattern: re.Pattern[str], value: str, what: str, max_length: int, *, required: bool = False) -> None:
    if not isinstance(value, str) or len(value) > max_length or (value and not pattern.fullmatch(value)):
        raise ValueError(f"audit {what} must match {pattern.pattern} (names and codes only, never values)")
    if required and not value:
        raise ValueError(f"audit {what} must not be empty")


@transaction.atomic
def place_viewing_hold(
    *,
    actor: Any,
    role: str,
    subject_id: uuid.UUID,
    agency_id: int,
    covers_from: datetime,
    covers_until: datetime,
    hidden_until: datetime,
    reference: str,
) -> ViewingHold:
    """Hide one agency's reads of a person's data, in a time range, from that person until a date."""
    if not reference.strip():
        raise ValueError("a viewing hold needs its legal reference")
    if hidden_until <= covers_until:
        raise ValueError("a viewing hold must end after the reads it hides")
    hold = ViewingHold.objects.create(
        subject_id=subject_id,
        agency_id=agency_id,
        covers_from=covers_from,
        covers_until=covers_until,
        hidden_until=hidden_until,
        reference=reference.strip(),
        placed_by=actor,
    )
    record(
        action="audit.viewing_hold_placed",
        actor=actor,
        role=role,
        agency_id=agency_id,
        subject_id=subject_id,
        object_type="audit.viewinghold",
        object_id=hold.pk,
        purpose="incident_investigation",
    )
    return hold
