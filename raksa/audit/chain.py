"""The hash chain: its canonical form, the one sequencer that extends it, and its verification.

An entry's hash is SHA-256 over the canonical form of [sequence, previous hash, content…]: a
compact JSON array of text, integers and nulls, read back from the database the same way on SQLite
and PostgreSQL. The sequencer chains committed entries in the order it finds them, so an entry
whose transaction commits late is simply chained later: nothing is skipped, nobody waits.
"""

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from raksa.audit.models import CONTENT_COLUMNS, AuditEntry

DATABASE = DEFAULT_DB_ALIAS
GENESIS = "0" * 64
# The table name is a constant, never input: the f-string queries below interpolate only it and
# fixed column expressions (hence their `noqa: S608`).
TABLE = AuditEntry._meta.db_table
# pg_advisory_xact_lock key: "raksa.audit.sequencer" as eight bytes of its SHA-256, signed.
SEQUENCER_LOCK = int.from_bytes(hashlib.sha256(b"raksa.audit.sequencer").digest()[:8], "big", signed=True)

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode


def _content_select(vendor: str) -> str:
    """The content columns as canonical text: times as UTC ISO-8601 with microseconds, UUIDs as 32 hex."""
    if vendor == "postgresql":
        expressions = {
            "time": "to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')",
            "actor_id": "replace(actor_id::text, '-', '')",
            "subject_id": "replace(subject_id::text, '-', '')",
        }
    else:
        # Django stores SQLite times as UTC text and drops ".000000" when the microseconds are zero.
        expressions = {"time": "replace(time, ' ', 'T') || CASE WHEN length(time) = 19 THEN '.000000' ELSE '' END"}
    return ", ".join(expressions.get(column, column) for column in CONTENT_COLUMNS)


def entry_hash(sequence: int, prev_hash: str, content: Sequence[object]) -> str:
    return hashlib.sha256(_dumps([sequence, prev_hash, *content]).encode()).hexdigest()


def chain_pending(*, batch_size: int = 5000, wait: bool = True) -> int:
    """Chain every committed, unchained entry; return how many. The one writer of the chain columns.

    Serialised by an advisory lock on PostgreSQL and by SQLite's single writer (BEGIN IMMEDIATE).
    With wait=False it returns 0 at once when another sequencer is running (on PostgreSQL).
    """
    if not AuditEntry.objects.using(DATABASE).filter(sequence__isnull=True).exists():
        return 0  # the common case for a follow loop: no write lock taken
    chained = 0
    after = 0
    while True:
        with transaction.atomic(using=DATABASE, durable=True):
            connection = connections[DATABASE]
            if not _lock(connection, wait=wait):
                return chained
            count, after = _chain_batch(connection, batch_size, after=after)
        chained += count
        if count < batch_size:
            return chained


def _lock(connection: BaseDatabaseWrapper, *, wait: bool) -> bool:
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        function = "pg_advisory_xact_lock" if wait else "pg_try_advisory_xact_lock"
        cursor.execute(f"SELECT {function}(%s)", [SEQUENCER_LOCK])
        (acquired,) = cursor.fetchone()
    return acquired is not False


def _chain_batch(connection: BaseDatabaseWrapper, batch_size: int, *, after: int) -> tuple[int, int]:
    """Chain up to batch_size unchained entries with ids above `after`; return how many, and the last id.

    Each call of chain_pending starts again from the lowest id, so an entry whose transaction
    committed after a higher id was chained is found by the next call; within a call, `after`
    spares each batch from scanning the index entries of rows the previous batches chained.
    """
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT sequence, hash FROM {TABLE} WHERE sequence IS NOT NULL ORDER BY sequence DESC LIMIT 1")  # noqa: S608
        tail = cursor.fetchone()
        sequence, prev_hash = tail if tail else (0, GENESIS)
        cursor.execute(
            f"SELECT id, {_content_select(connection.vendor)} FROM {TABLE} "  # noqa: S608
            "WHERE sequence IS NULL AND id > %s ORDER BY id LIMIT %s",
            [after, batch_size],
        )
        rows = cursor.fetchall()
        if not rows:
            return 0, after
        ids, sequences, prev_hashes, hashes = [], [], [], []
        for entry_id, *content in rows:
            sequence += 1
            digest = entry_hash(sequence, prev_hash, content)
            ids.append(entry_id)
            sequences.append(sequence)
            prev_hashes.append(prev_hash)
            hashes.append(digest)
            prev_hash = digest
        if connection.vendor == "postgresql":
            # Arrays travel as text literals (numbers and hex only): adapting 4 x 10,000 Python values
            # one by one took longer than the update. The id range lets the join use the primary key.
            cursor.execute(
                f"UPDATE {TABLE} AS e SET sequence = v.sequence, prev_hash = v.prev_hash, hash = v.hash "  # noqa: S608
                "FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::text[]) AS v(id, sequence, prev_hash, hash) "
                "WHERE e.id = v.id AND e.id BETWEEN %s AND %s",
                [*map(_array, (ids, sequences, prev_hashes, hashes)), ids[0], ids[-1]],
            )
        else:
            cursor.executemany(
                f"UPDATE {TABLE} SET sequence = %s, prev_hash = %s, hash = %s WHERE id = %s",  # noqa: S608
                list(zip(sequences, prev_hashes, hashes, ids, strict=True)),
            )
        return len(rows), ids[-1]


def _array(values: list) -> str:
    return "{" + ",".join(map(str, values)) + "}"


@dataclass(frozen=True)
class ChainEnd:
    sequence: int
    hash: str


def chain_end() -> ChainEnd | None:
    with connections[DATABASE].cursor() as cursor:
        cursor.execute(f"SELECT sequence, hash FROM {TABLE} WHERE sequence IS NOT NULL ORDER BY sequence DESC LIMIT 1")  # noqa: S608
        row = cursor.fetchone()
    return ChainEnd(*row) if row else None


@dataclass
class Verification:
    """What `verify` found: the first problem, or a sound chain of `entries` ending at `end`."""

    entries: int = 0
    end: ChainEnd | None = None
    unchained: int = 0
    checkpoints: int = 0
    problem: str = ""

    @property
    def sound(self) -> bool:
        return not self.problem


def walk(*, batch_size: int = 20_000) -> Iterator[tuple]:
    """Every chained entry as (sequence, prev_hash, hash, id, canonical content…), in sequence order."""
    connection = connections[DATABASE]
    select = f"SELECT sequence, prev_hash, hash, id, {_content_select(connection.vendor)} FROM {TABLE}"  # noqa: S608
    last = 0
    with connection.cursor() as cursor:
        while True:
            cursor.execute(f"{select} WHERE sequence > %s ORDER BY sequence LIMIT %s", [last, batch_size])
            rows = cursor.fetchall()
            yield from rows
            if len(rows) < batch_size:
                return
            last = rows[-1][0]


def verify_chain(*, expected: dict[int, str], max_unchained: timedelta) -> Verification:
    """Recompute the chain; stop at the first entry that breaks it or disagrees with `expected`.

    `expected` maps sequence numbers to the hashes signed checkpoints vouch for.
    """
    result = Verification()
    sequence, prev_hash = 0, GENESIS
    sha256 = hashlib.sha256
    # The hot loop over every entry only compares; the message is worked out when one differs.
    for row in walk():
        sequence += 1
        if (
            row[0] != sequence
            or row[1] != prev_hash
            or sha256(_dumps([sequence, prev_hash, *row[4:]]).encode()).hexdigest() != row[2]
            or expected.get(sequence, row[2]) != row[2]
        ):
            result.problem = _problem(row, sequence, prev_hash)
            return result
        prev_hash = row[2]
    result.entries = sequence
    result.end = ChainEnd(sequence, prev_hash) if sequence else None
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
    stored_sequence, stored_prev, stored_hash, entry_id, *content = row
    where = f"entry #{stored_sequence} (id {entry_id})"
    if stored_sequence != sequence:
        return (
            f"entry #{sequence} is missing: the chain jumps from #{sequence - 1} to #{stored_sequence} "
            "(an entry was deleted)"
        )
    if stored_prev != prev_hash:
        return f"{where} does not link to entry #{sequence - 1}: an entry before it was deleted, inserted or reordered"
    if entry_hash(sequence, prev_hash, content) != stored_hash:
        return f"{where} does not match its hash: it was edited, inserted or moved"
    return f"{where} differs from the signed checkpoint at #{sequence}: the history up to it was rewritten"


def _unchained(*, older_than: datetime) -> tuple[int, tuple[int, datetime] | None]:
    queue = AuditEntry.objects.using(DATABASE).filter(sequence__isnull=True)
    oldest = queue.filter(time__lt=older_than).order_by("id").values_list("id", "time").first()
    return queue.count(), oldest
