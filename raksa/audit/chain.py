"""The hash chain: its canonical form, the one sequencer that extends it, and its verification.

An entry's hash is SHA-256 over the canonical form of [sequence, previous hash, content…]: a
compact JSON array of text, integers and nulls, read back from the database the same way on SQLite
and PostgreSQL. The sequencer chains committed entries in the order it finds them, so an entry
whose transaction commits late is simply chained later: nothing is skipped, nobody waits. Chaining
an entry inserts its link (sequence, entry id, previous hash, hash) into an insert-only table, COPY
on PostgreSQL; the entry itself is never written again.
"""

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from django.db.models import Count, Min, Q
from django.utils import timezone

from raksa.audit.models import CONTENT_COLUMNS, AuditEntry, AuditLink, SequencerState

DATABASE = DEFAULT_DB_ALIAS
GENESIS = "0" * 64
# The table names are constants, never input: the f-string queries below interpolate only them and
# fixed column expressions (hence their `noqa: S608`).
ENTRIES = AuditEntry._meta.db_table
LINKS = AuditLink._meta.db_table
STATE = SequencerState._meta.db_table
# pg_advisory_xact_lock key: "raksa.audit.sequencer" as eight bytes of its SHA-256, signed.
SEQUENCER_LOCK = int.from_bytes(hashlib.sha256(b"raksa.audit.sequencer").digest()[:8], "big", signed=True)

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode


_NULLABLE = {"actor_id", "agency_id", "subject_id"}
_INTEGER = {"agency_id"}


def _canonical_content(vendor: str, table: str = "") -> str:
    """SQL for an entry's content as the canonical JSON of its values, comma-separated (no brackets).

    Times are UTC ISO-8601 with microseconds, UUIDs 32 hex digits, text is a JSON string as
    Python's `json.dumps(value, ensure_ascii=False)` writes it (PostgreSQL's to_json and SQLite's
    json_quote escape exactly the same characters the same way), NULL is null. The database does
    this work so the sequencer and verify only join text and hash; `entry_hash` is the definition.
    """
    prefix = f"{table}." if table else ""
    if vendor != "postgresql":
        # Django stores SQLite times as UTC text and drops ".000000" when the microseconds are zero.
        time = f"{prefix}time"
        special = {"time": f"replace({time}, ' ', 'T') || CASE WHEN length({time}) = 19 THEN '.000000' ELSE '' END"}
        return " || ',' || ".join(f"json_quote({special.get(column, prefix + column)})" for column in CONTENT_COLUMNS)
    # Timestamps as text are ISO whatever the server's DateStyle says of the order (psycopg reads
    # only ISO, so Raksa's connections use it); the fraction loses its trailing zeros: pad them back.
    utc = f"({prefix}time AT TIME ZONE 'UTC')::text"
    padded = f"rpad(CASE WHEN length({utc}) = 19 THEN {utc} || '.' ELSE {utc} END, 26, '0')"
    special = {
        "time": f"overlay({padded} placing 'T' from 11)",
        "actor_id": f"replace({prefix}actor_id::text, '-', '')",
        "subject_id": f"replace({prefix}subject_id::text, '-', '')",
    }
    expressions = {column: special.get(column, prefix + column) for column in CONTENT_COLUMNS}

    def quoted(column: str, *, escape: bool) -> str:
        expression = expressions[column]
        if column in _INTEGER:
            text = f"{expression}::text"
        elif escape:
            text = f"to_json({expression})::text"
        else:
            text = f"'\"' || {expression} || '\"'"
        return f"coalesce({text}, 'null')" if column in _NULLABLE else text

    # Codes (what record() accepts) need no escaping, and quoting them with || is far cheaper than
    # to_json, or concat(), which calls each value's output function: one to_json over all the
    # free text tells whether any of it holds a quote, a backslash or a control character.
    text = " || ".join(expressions[c] for c in CONTENT_COLUMNS if c not in _INTEGER and c not in special)
    plain = " || ',' || ".join(quoted(column, escape=False) for column in CONTENT_COLUMNS)
    escaped = " || ',' || ".join(quoted(column, escape=True) for column in CONTENT_COLUMNS)
    return f"CASE WHEN to_json({text})::text = '\"' || {text} || '\"' THEN {plain} ELSE {escaped} END"


def entry_hash(sequence: int, prev_hash: str, content: Sequence[object]) -> str:
    """The hash of an entry at `sequence` after `prev_hash`, from its content values (the definition)."""
    return hashlib.sha256(_dumps([sequence, prev_hash, *content]).encode()).hexdigest()


def canonical_hash(sequence: int, prev_hash: str, content: str) -> str:
    """`entry_hash` from the canonical content the database wrote (`_canonical_content`)."""
    return hashlib.sha256(f'[{sequence},"{prev_hash}",{content}]'.encode()).hexdigest()


def chain_pending(*, batch_size: int = 10_000, wait: bool = True) -> int:
    """Chain every committed, unchained entry; return how many (a sequencer for one call)."""
    return Sequencer().chain_pending(batch_size=batch_size, wait=wait)


class Sequencer:
    """The one writer of the chain, serialised by an advisory lock on PostgreSQL and by SQLite's
    single writer (BEGIN IMMEDIATE). Kept between rounds, it remembers where it stopped.

    Entry ids come from a sequence in insertion order, but on PostgreSQL transactions commit in
    any order: below the highest id chained there can be *holes*, ids whose transaction is still
    open (chained once it commits) or rolled back (never to appear). The sequencer looks up only
    the holes and the ids above the highest, never the chained rows again. A hole is *settled*
    (dropped) once every transaction that could hold it has ended: the sequencer notes the last id
    handed out, then takes its own transaction ID; when a snapshot's xmin reaches that ID, all those
    transactions are over. (A statement trigger gives each inserting transaction its transaction
    ID before it takes an entry id, so an id handed out before the note belongs to a transaction
    below the sequencer's.) What is settled is kept in SequencerState for the next start.
    """

    def __init__(self) -> None:
        self._end: tuple[int, str] | None = None  # the chain's end as this sequencer last left it
        self._last_id = 0  # the highest entry id chained
        self._holes: set[int] = set()
        self._settled = 0
        self._unsettled: list[tuple[int, int]] = []  # (last entry id handed out, sequencer transaction ID)

    def chain_pending(self, *, batch_size: int = 10_000, wait: bool = True) -> int:
        """Chain every committed, unchained entry; return how many. With wait=False it returns 0
        at once when another sequencer is running (on PostgreSQL)."""
        if (
            self._end is not None
            and not self._holes
            and not AuditEntry.objects.using(DATABASE).filter(id__gt=self._last_id).exists()
        ):
            return 0  # the common case for a follow loop: no write lock taken
        chained = 0
        while True:
            with transaction.atomic(using=DATABASE, durable=True):
                connection = connections[DATABASE]
                if not _lock(connection, wait=wait):
                    return chained
                with connection.cursor() as cursor:
                    count, more = self._round(cursor, connection.vendor, batch_size)
            chained += count
            if not more:
                return chained

    def _round(self, cursor: CursorWrapper, vendor: str, batch_size: int) -> tuple[int, bool]:
        cursor.execute(f"SELECT sequence, hash FROM {LINKS} ORDER BY sequence DESC LIMIT 1")  # noqa: S608  # nosec B608
        end = cursor.fetchone()
        end = tuple(end) if end else (0, GENESIS)
        if end != self._end:
            self._resync(cursor, vendor, end)
        postgresql = vendor == "postgresql"
        settled = self._settle(cursor) if postgresql else 0
        content = _canonical_content(vendor)
        rows: list = []
        if self._holes:
            cursor.execute(
                f"SELECT id, {content} FROM {ENTRIES} WHERE id = ANY(%s) ORDER BY id",  # noqa: S608  # nosec B608
                [sorted(self._holes)],
            )
            rows = cursor.fetchall()
            self._holes.difference_update(row[0] for row in rows)
        cursor.execute(
            f"SELECT id, {content} FROM {ENTRIES} WHERE id > %s ORDER BY id LIMIT %s",  # noqa: S608  # nosec B608
            [self._last_id, batch_size],
        )
        fresh = cursor.fetchall()
        if postgresql:
            # Ids skipped between the ones found are holes, unless already settled (rolled back).
            previous = max(self._last_id, settled)
            for entry_id, _content in fresh:
                if entry_id > previous + 1:
                    self._holes.update(range(previous + 1, entry_id))
                previous = max(previous, entry_id)
        if fresh:
            self._last_id = fresh[-1][0]
        rows += fresh
        if rows:
            self._write_links(cursor, postgresql, rows)
        if postgresql and settled:
            self._holes = {hole for hole in self._holes if hole > settled}
        if postgresql and min(settled, self._last_id) > self._settled:
            self._settled = min(settled, self._last_id)
            cursor.execute(
                f"INSERT INTO {STATE} (id, settled_through) VALUES (1, %s) "  # noqa: S608  # nosec B608
                f"ON CONFLICT (id) DO UPDATE SET settled_through = GREATEST({STATE}.settled_through, "
                "EXCLUDED.settled_through)",
                [self._settled],
            )
        return len(rows), len(fresh) == batch_size

    def _write_links(self, cursor: CursorWrapper, postgresql: bool, rows: list) -> None:
        sequence, prev_hash = self._end or (0, GENESIS)
        sha256 = hashlib.sha256
        links = []
        for entry_id, content in rows:
            sequence += 1
            digest = sha256(f'[{sequence},"{prev_hash}",{content}]'.encode()).hexdigest()
            links.append((sequence, entry_id, prev_hash, digest))
            prev_hash = digest
        columns = "sequence, entry_id, prev_hash, hash"
        if postgresql:
            # Numbers and hex only: the text format needs no escaping.
            # CursorWrapper passes copy() to the driver unwrapped: its errors are made Django's, so that
            # a database going away mid-COPY is a DatabaseError the following sequencer survives.
            with cursor.db.wrap_database_errors, cursor.copy(f"COPY {LINKS} ({columns}) FROM STDIN") as copy:
                copy.write("".join(f"{s}\t{e}\t{p}\t{h}\n" for s, e, p, h in links))
        else:
            cursor.executemany(f"INSERT INTO {LINKS} ({columns}) VALUES (%s, %s, %s, %s)", links)  # noqa: S608  # nosec B608
        self._end = (sequence, prev_hash)

    def _resync(self, cursor: CursorWrapper, vendor: str, end: tuple[int, str]) -> None:
        """Start (again) from what the database holds: on a first round, or after another sequencer ran."""
        self._end = end
        cursor.execute(f"SELECT coalesce(max(entry_id), 0) FROM {LINKS}")  # noqa: S608  # nosec B608
        (self._last_id,) = cursor.fetchone()
        self._holes = set()
        if vendor != "postgresql":
            return  # one writer at a time: whatever is below the highest id chained has committed
        cursor.execute(f"SELECT coalesce(max(settled_through), 0) FROM {STATE}")  # noqa: S608  # nosec B608
        (settled,) = cursor.fetchone()
        self._settled = min(settled, self._last_id)
        cursor.execute(
            f"SELECT id FROM generate_series(%s::bigint, %s::bigint) AS id "  # noqa: S608  # nosec B608
            f"WHERE NOT EXISTS (SELECT FROM {LINKS} WHERE entry_id = id)",
            [self._settled + 1, self._last_id],
        )
        self._holes = {hole for (hole,) in cursor.fetchall()}

    def _settle(self, cursor: CursorWrapper) -> int:
        """The highest entry id below which every transaction has ended (PostgreSQL)."""
        cursor.execute(f"SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM {_id_sequence(cursor)}")  # noqa: S608  # nosec B608
        (handed_out,) = cursor.fetchone()
        # The bound is this round's own transaction ID, assigned by the statement after the one above
        # (nothing in the round has written yet), so above every ID handed out before: those of all
        # transactions holding an entry id up to `handed_out`. Not the snapshot's xmax: that is only
        # the newest *ended* transaction + 1, and a snapshot leaves out running transactions at or
        # above it, so its xmin could pass a transaction still open with an entry id (which then
        # committed unchained, for good).
        cursor.execute("SELECT pg_current_xact_id()::text::bigint")
        (bound,) = cursor.fetchone()
        # A statement after the one above, so a snapshot that sees every transaction below the bound.
        cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        (xmin,) = cursor.fetchone()
        self._unsettled.append((handed_out, bound))
        settled = max((last for last, below in self._unsettled if below <= xmin), default=0)
        self._unsettled = [(last, below) for last, below in self._unsettled if below > xmin]
        return settled


_sequence_names: dict[str, str] = {}


def _id_sequence(cursor: CursorWrapper) -> str:
    database = cursor.db.settings_dict["NAME"]
    if database not in _sequence_names:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [ENTRIES])
        (_sequence_names[database],) = cursor.fetchone()
    return _sequence_names[database]


def _lock(connection: BaseDatabaseWrapper, *, wait: bool) -> bool:
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        function = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
        cursor.execute(f"SELECT {function}(%s)", [SEQUENCER_LOCK])
        (acquired,) = cursor.fetchone()
    return acquired is not False


@dataclass(frozen=True)
class ChainEnd:
    sequence: int
    hash: str


def chain_start() -> ChainEnd | None:
    """Where the chain starts when a sealed segment was removed: the sequence and hash its first
    remaining link follows (a signed checkpoint must vouch for them); None for a chain from genesis."""
    with connections[DATABASE].cursor() as cursor:
        cursor.execute(f"SELECT sequence, prev_hash FROM {LINKS} ORDER BY sequence LIMIT 1")  # noqa: S608  # nosec B608
        row = cursor.fetchone()
    if row is None or row[0] == 1:
        return None
    return ChainEnd(row[0] - 1, row[1])


def chain_end() -> ChainEnd | None:
    with connections[DATABASE].cursor() as cursor:
        cursor.execute(f"SELECT sequence, hash FROM {LINKS} ORDER BY sequence DESC LIMIT 1")  # noqa: S608  # nosec B608
        row = cursor.fetchone()
    return ChainEnd(*row) if row else None


@dataclass
class Verification:
    """What `verify` found: the first problem, or a sound chain of `entries` ending at `end`."""

    entries: int = 0
    end: ChainEnd | None = None
    # The signed checkpoint the remaining chain starts after, once a sealed segment was removed.
    start: ChainEnd | None = None
    unchained: int = 0
    checkpoints: int = 0
    problem: str = ""

    @property
    def sound(self) -> bool:
        return not self.problem


def walk(*, batch_size: int = 20_000) -> Iterator[tuple]:
    """Every link with its entry as (sequence, prev_hash, hash, linked entry id, the entry's id or
    None when it is gone, canonical content), in sequence order."""
    connection = connections[DATABASE]
    select = (
        f"SELECT l.sequence, l.prev_hash, l.hash, l.entry_id, e.id, {_canonical_content(connection.vendor, 'e')} "  # noqa: S608  # nosec B608
        f"FROM {LINKS} l LEFT JOIN {ENTRIES} e ON e.id = l.entry_id"
    )
    last = 0
    with connection.cursor() as cursor:
        while True:
            cursor.execute(f"{select} WHERE l.sequence > %s ORDER BY l.sequence LIMIT %s", [last, batch_size])
            rows = cursor.fetchall()
            yield from rows
            if len(rows) < batch_size:
                return
            last = rows[-1][0]


def verify_chain(*, expected: dict[int, str], max_unchained: timedelta, start: ChainEnd | None = None) -> Verification:
    """Recompute the chain; stop at the first entry that breaks it or disagrees with `expected`.

    `expected` maps sequence numbers to the hashes signed checkpoints vouch for; `start`, after a
    sealed segment was removed, is the checkpoint the remaining chain follows (else the genesis hash).
    """
    result = Verification(start=start)
    sequence, prev_hash = (start.sequence, start.hash) if start is not None else (0, GENESIS)
    sha256 = hashlib.sha256
    # The hot loop over every entry only compares; the message is worked out when one differs.
    for row in walk():
        sequence += 1
        if (
            row[0] != sequence
            or row[1] != prev_hash
            or sha256(f'[{sequence},"{prev_hash}",{row[5]}]'.encode()).hexdigest() != row[2]
            or expected.get(sequence, row[2]) != row[2]
        ):
            result.problem = _problem(row, sequence, prev_hash)
            return result
        prev_hash = row[2]
    result.entries = sequence - (start.sequence if start is not None else 0)
    result.end = ChainEnd(sequence, prev_hash) if result.entries else None
    beyond = [vouched for vouched in expected if vouched > sequence]
    if beyond:
        result.problem = (
            f"the chain ends at entry #{sequence}, but a signed checkpoint vouches for #{max(beyond)}: "
            "entries after the chain's end were removed"
        )
        return result
    result.unchained, oldest = _unchained(older_than=timezone.now() - max_unchained)
    if oldest is not None:
        result.problem = (
            f"entry id {oldest[0]} has been waiting to be chained since {oldest[1]:%Y-%m-%d %H:%M:%S} UTC, longer than "
            f"{int(max_unchained.total_seconds())} s: is the sequencer (`raksa audit chain --follow`) running?"
        )
    return result


def _problem(row: tuple, sequence: int, prev_hash: str) -> str:
    stored_sequence, stored_prev, stored_hash, entry_id, present, content = row
    where = f"entry #{stored_sequence} (id {entry_id})"
    if stored_sequence != sequence:
        return (
            f"entry #{sequence} is missing: the chain jumps from #{sequence - 1} to #{stored_sequence} "
            "(an entry was deleted)"
        )
    if present is None:
        return f"{where} is missing: the entry was deleted"
    if stored_prev != prev_hash:
        return f"{where} does not link to entry #{sequence - 1}: an entry before it was deleted, inserted or reordered"
    if canonical_hash(sequence, prev_hash, content) != stored_hash:
        return f"{where} does not match its hash: it was edited, inserted or moved"
    return f"{where} differs from the signed checkpoint at #{sequence}: the history up to it was rewritten"


def _unchained(*, older_than: datetime) -> tuple[int, tuple[int, datetime] | None]:
    queue = AuditEntry.objects.using(DATABASE).filter(link__isnull=True)
    found = queue.aggregate(count=Count("id"), oldest=Min("id", filter=Q(time__lt=older_than)))
    if found["oldest"] is None:
        return found["count"], None
    return found["count"], (found["oldest"], queue.get(id=found["oldest"]).time)
