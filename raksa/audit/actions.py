"""Writing audit entries.

`record` inserts in the caller's transaction, so a change and its entry commit (or roll back)
together. `record_committed` returns only once the entry is durably committed, even inside a
transaction; the gateway uses it so that no value leaves before its entry is written.
Entries are inserted unchained; the sequencer (raksa.audit.chain) chains them after commit.

An entry is one INSERT statement through the connection's cursor and many entries one COPY (one
executemany on SQLite): no model instance is built to write them, so an entry costs about what a
bare INSERT of the same row costs (bench/audit.py measures both).
"""

import os
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorDebugWrapper
from django.db.models import Model
from django.db.utils import load_backend
from django.utils import timezone
from django.utils.module_loading import import_string

from raksa.audit.context import current_request_id
from raksa.audit.models import CONTENT_COLUMNS, AuditEntry, Outcome, ViewingHold

DATABASE = DEFAULT_DB_ALIAS

_ACTION = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
_NAME = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")
# Codes, not prose: a space or an @ is where a name or an address would sneak in.
_CODE = re.compile(r"[A-Za-z0-9_.:()/-]*")
_OBJECT_ID = re.compile(r"[A-Za-z0-9_-]*")
_OUTCOMES = frozenset(Outcome.values)

# The table and columns are constants, never input (hence the `noqa: S608` where they are joined in).
_TABLE = AuditEntry._meta.db_table
_COLUMN_LIST = ", ".join(CONTENT_COLUMNS)
_INSERT = f"INSERT INTO {_TABLE} ({_COLUMN_LIST}) VALUES ({', '.join(['%s'] * len(CONTENT_COLUMNS))})"  # noqa: S608
_COPY = f"COPY {_TABLE} ({_COLUMN_LIST}) FROM STDIN"
_ATTNAMES = [field.attname for field in AuditEntry._meta.concrete_fields]
_TIME, _ACTOR, _SUBJECT = (CONTENT_COLUMNS.index(name) for name in ("time", "actor_id", "subject_id"))

# An entry's content, in CONTENT_COLUMNS order, as Python values.
type Row = tuple[Any, ...]

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
    _check_access_record()
    row = _row(**locals())
    return _entry(_insert_one(connections[DATABASE], row), row)


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
    _check_access_record()
    row = _row(**locals())
    return _entry(_committed(lambda connection: _insert_one(connection, row)), row)


def record_many_committed(entries: Sequence[dict[str, Any]]) -> None:
    """`record_committed` for many entries at once (a list screen): one COPY, one commit."""
    _check_access_record()
    rows = [_row(**(_OPTIONAL | dict(arguments))) for arguments in entries]
    if rows:
        _committed(lambda connection: _insert_many(connection, rows))


def _committed[T](write: Callable[[BaseDatabaseWrapper], T]) -> T:
    """`write` on a connection whose transaction commits before this returns (see record_committed)."""
    connection = connections[DATABASE]
    if not _in_transaction(connection):
        with transaction.atomic(using=DATABASE, durable=True):
            return write(connection)
    if connection.vendor == "sqlite":
        raise AuditNotDurableError(
            "On SQLite an audit entry cannot be committed apart from an open transaction "
            "(one writer at a time); call this outside transaction.atomic()."
        )
    own = _apart(connection)
    try:
        # Autocommit: the statement is committed when it returns.
        return write(own)
    except BaseException:
        # Whatever state a failed write left it in, the next entry starts on a new connection.
        own.close()
        raise


# The connection entries are committed on apart from the caller's transaction, one per thread (and
# process): opening one per entry cost PostgreSQL a new backend each time (staff reads, disclosures).
# It lives as Django's own connections do: checked before each use (a connection the server dropped
# is replaced, not written to), closed at the start and end of each request once obsolete
# (CONN_MAX_AGE), closed after a failed write, and closed by close_apart_connection().
_kept = threading.local()


def _apart(connection: BaseDatabaseWrapper) -> BaseDatabaseWrapper:
    own: BaseDatabaseWrapper | None = getattr(_kept, "connection", None)
    if own is not None and (_kept.pid != os.getpid() or own.settings_dict != connection.settings_dict):
        # A forked child's copy shares its parent's socket: dropped, never closed (which would end the
        # parent's session). Another configuration (tests switch databases): closed.
        if _kept.pid == os.getpid():
            own.close()
        own = None
    if own is not None and own.connection is not None and not own.is_usable():
        own.close()
    if own is None:
        own = load_backend(connection.settings_dict["ENGINE"]).DatabaseWrapper(dict(connection.settings_dict), DATABASE)
        _kept.connection, _kept.pid = own, os.getpid()
    return own


def close_apart_connection(**_signal: object) -> None:
    """Closes this thread's connection for entries committed apart, if it has one open."""
    own: BaseDatabaseWrapper | None = getattr(_kept, "connection", None)
    if own is not None and _kept.pid == os.getpid():
        own.close()
    _kept.connection = None


def _close_apart_if_obsolete(**_signal: object) -> None:
    own: BaseDatabaseWrapper | None = getattr(_kept, "connection", None)
    if own is not None and _kept.pid == os.getpid():
        own.close_if_unusable_or_obsolete()


request_started.connect(_close_apart_if_obsolete)
request_finished.connect(_close_apart_if_obsolete)


def _in_transaction(connection: BaseDatabaseWrapper) -> bool:
    if not connection.in_atomic_block:
        return not connection.get_autocommit()
    return not all(getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


def _insert_one(connection: BaseDatabaseWrapper, row: Row) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"{_INSERT} RETURNING id", _stored(connection, row))
        (pk,) = cursor.fetchone()
    return pk


def _insert_many(connection: BaseDatabaseWrapper, rows: list[Row]) -> None:
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.executemany(_INSERT, [_stored(connection, row) for row in rows])
            return
        connection.validate_no_broken_transaction()
        # Django's cursor knows no COPY: its errors wrapped as Django's, and, where queries are
        # logged (DEBUG, tests counting queries), logged as the one statement it is.
        logged = cursor.debug_sql(_COPY) if isinstance(cursor, CursorDebugWrapper) else nullcontext()
        with logged, connection.wrap_database_errors, cursor.cursor.copy(_COPY) as copy:
            # COPY fires the table's statement trigger as an INSERT does (the sequencer relies on it).
            for row in rows:
                copy.write_row(row)


def _stored(connection: BaseDatabaseWrapper, row: Row) -> Row:
    """The row as the database driver takes it: what Django's DateTimeField and UUIDField would store."""
    if connection.features.has_native_uuid_field:
        return row
    stored = list(row)
    stored[_TIME] = connection.ops.adapt_datetimefield_value(row[_TIME])
    for index in (_ACTOR, _SUBJECT):
        stored[index] = row[index].hex if row[index] is not None else None
    return tuple(stored)


def _entry(pk: int, row: Row) -> AuditEntry:
    return AuditEntry.from_db(DATABASE, _ATTNAMES, (pk, *row))


def _check_access_record() -> None:
    problem = import_string(settings.RAKSA_AUDIT_ACCESS_RECORD_CHECK)()
    if problem is not None:
        raise AccessNotRecordedError(f"the access log cannot record this request: {problem}")


def _row(
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
) -> Row:
    field_names = list(fields)
    object_id = str(object_id)
    _check(_ACTION, action, "action", 64, required=True)
    _check(_NAME, role, "role", 20)
    _check(_NAME, object_type, "object_type", 64)
    _check(_OBJECT_ID, object_id, "object_id", 64)
    for name in field_names:
        _check(_NAME, name, "field name", 64, required=True)
    _check(_CODE, purpose, "purpose", 64)
    _check(_CODE, legal_basis, "legal_basis", 64)
    if outcome not in _OUTCOMES:
        raise ValueError(f"outcome must be one of {Outcome.values}, not {outcome!r}")
    request_id = request_id if request_id is not None else current_request_id() or ""
    _check(_OBJECT_ID, request_id, "request_id", 64)
    return (
        timezone.now(),
        _actor_id(actor),
        role,
        int(agency_id) if agency_id is not None else None,
        _uuid(subject_id),
        action,
        object_type,
        object_id,
        ",".join(field_names),
        purpose,
        legal_basis,
        request_id,
        str(outcome),
    )


def _actor_id(actor: object) -> uuid.UUID | None:
    """A user, a user's ID, or None; an anonymous visitor is None too."""
    if actor is None or not getattr(actor, "is_authenticated", True):
        return None
    if isinstance(actor, Model):
        actor = actor.pk
    return _uuid(actor)


def _uuid(value: object) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(str(value))


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
