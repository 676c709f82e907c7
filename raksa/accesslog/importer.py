"""Importing existing web-server logs (nginx/Apache combined format, gzip too) as access records.

Lines go through the same cleaning as live capture (query allow-list, secret routes cut) and the
same Loader. A line that does not parse, or holds what the database cannot (a NUL, a size past 18
digits, an impossible time or one more than FUTURE_TOLERANCE_MS after now), is counted and reported
with its number, never fatal. The source's cursor is its line number, so importing the same file twice
adds nothing. The cursor is named by the file's path and first line, so a log rotated under the same
path starts again at its first line; a plain file's last line without its newline is left for the next
run (the file may be being written); a gzip file cut short is imported as far as it reads.
"""

import calendar
import datetime
import gzip
import hashlib
import multiprocessing
import re
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.db import DatabaseError, connection, connections

from raksa.accesslog.actions import day_bounds, local_today
from raksa.accesslog.ingest import Loader, can_fork, collector_paused, warm_up_before_forking
from raksa.accesslog.models import SpoolCursor
from raksa.accesslog.redaction import clean_address, clean_referrer

# %h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"; a quoted field is a run of plain characters
# between escapes ("unrolled", so the engine takes the run in one step instead of a choice per character).
# No field takes a newline, so the same fields find every line of a batch's text at once (`_BATCH`).
# The size has at most 18 digits: a 64-bit column holds it.
_QUOTED = r'"([^"\\\n]*(?:\\.[^"\\\n]*)*)"'
_FIELDS = (
    r"(\S+) \S+ \S+ \[(\d\d/\w\w\w/\d{4}:\d\d:\d\d:\d\d [+-]\d{4})\] "
    rf'"(\S+) (\S+)(?: [^"\n]*)?" (\d{{3}}) (\d{{1,18}}|-) {_QUOTED} {_QUOTED}'
)
# After the browser, only further fields, each after a space: quoted ones (nginx's "$http_x_forwarded_for")
# or plain words without quotes or brackets (Apache's %I %O, nginx's $request_time). A line cut short
# and followed by the next one on the same line has that line's `] "` after a quote or inside a word:
# it is broken, not one good line hiding the second request in the first's browser string.
_TAIL = r'(?:[ \t]+(?:"[^"\\\n]*(?:\\.[^"\\\n]*)*"|[^\s"\[\]]+))*[ \t\r]*'
_COMBINED = re.compile(_FIELDS + _TAIL)
_BATCH = re.compile(rf"^{_FIELDS}{_TAIL}$", re.MULTILINE)
# Lines dated up to this long after the import's clock are taken (another server's clock may be ahead);
# later ones are broken: no request is made in the future, and a day key made for one would be kept
# for the retention after that day.
FUTURE_TOLERANCE_MS = 3_600_000
_MONTHS = {name: number for number, name in enumerate(calendar.month_abbr) if name}
REPORTED_BROKEN = 100
# Lines a batch (one transaction) holds: more than the spool ingester's 20,000, since a batch's roll-up
# adds to a count for each distinct network (/24) of its clients, and a log's clients come back batch
# after batch (the bench's 50,000 visitors of a day: 0.82 upserts a line in batches of 20,000, 0.63 in
# batches of 50,000; the CPU of the processes' turns at the database 6.5% less, measured).
BATCH_SIZE = 50_000
# Processes sharing a file's batches on SQLite: two cores' worth (`raksa accesslog import --workers`).
WORKERS = 2
_REMEMBERED = 10_000
# Bytes no combined-format line is shorter than (the shortest, with an IPv4 address, "-" for the user,
# the referrer and the browser, a one-digit size, "GET / HTTP/1.1": 71 with its newline).
_SHORTEST_LINE = 64
# Bytes read at a time: blocks of about a thousand lines, most of them inside one batch.
_BLOCK = 256 * 1024


@dataclass
class ImportReport:
    lines: int = 0
    imported: int = 0
    skipped: int = 0
    broken: int = 0
    refused: int = 0  # older than the raw records' retention (RAKSA_ACCESSLOG_RAW_DAYS)
    broken_lines: list[tuple[str, int]] = field(default_factory=list)
    # Files whose compressed stream ended early or is damaged: the lines before were imported.
    unfinished: list[str] = field(default_factory=list)
    # A last line without its newline yet (a log being written), left for the next run: file, number.
    waiting: list[tuple[str, int]] = field(default_factory=list)


def _reader(raw: BinaryIO) -> BinaryIO:
    """The file itself, or its decompressed stream when it is gzip (told by its magic bytes)."""
    magic = raw.read(2)
    raw.seek(0)
    return gzip.GzipFile(fileobj=raw) if magic == b"\x1f\x8b" else raw  # type: ignore[return-value]


def _time_ms(stamp: str) -> int:
    """Epoch milliseconds of a combined-log time; -1 (never a whole second's) for an impossible one
    (31 November, 25:00, minute 60; a leap second too)."""
    try:
        # datetime checks each field's range (timegm would carry 99 seconds into the next minutes); naive
        # (the stamp's offset is applied below), which is quicker than an aware one's arithmetic.
        seconds = (
            (
                datetime.datetime(  # noqa: DTZ001
                    int(stamp[7:11]),
                    _MONTHS[stamp[3:6]],
                    int(stamp[0:2]),
                    int(stamp[12:14]),
                    int(stamp[15:17]),
                    int(stamp[18:20]),
                )
                - _EPOCH
            )
            // _SECOND
        )
    except (KeyError, ValueError):
        return _IMPOSSIBLE
    offset = (int(stamp[22:24]) * 60 + int(stamp[24:26])) * 60
    return (seconds - offset if stamp[21] == "+" else seconds + offset) * 1000


_IMPOSSIBLE = -1
_EPOCH = datetime.datetime(1970, 1, 1)  # noqa: DTZ001  (naive UTC, as _time_ms's)
_SECOND = datetime.timedelta(seconds=1)


def import_logs(
    paths: list[Path],
    *,
    host: str = "",
    progress: Callable[[Path, int, int], None] | None = None,
    workers: int | None = None,
) -> ImportReport:
    """Imports each file in turn, with `workers` processes sharing each file's batches: by default
    two on SQLite, which stores the rows in the importing process, and one on PostgreSQL, whose
    server stores them beside it already. One when they cannot be forked (SQLite's in-memory test
    databases, or inside a transaction, whose rows the children would not see)."""
    report = ImportReport()
    loader = Loader()
    if workers is None:
        workers = 1 if loader.postgres else WORKERS
    if workers < 1 or not can_fork() or connection.in_atomic_block:
        workers = 1
    with collector_paused():
        for path in paths:
            _import_file(loader, path, host, report, progress, workers)
    return report


@dataclass
class _Part:
    """The batches one process of an import makes and writes: the file's lines after its cursor, in
    batches of BATCH_SIZE, every `count`-th from the `index`-th. Its turns at the database come from
    the process before it and go to the one after, so batches commit in the file's order."""

    index: int = 0
    count: int = 1
    given: Connection | None = None
    passed: Connection | None = None
    turns: int = 0

    @contextmanager
    def turn(self) -> Iterator[None]:
        if self.given is not None and (self.index or self.turns):
            try:
                self.given.recv_bytes()
            except EOFError:
                raise ImportStoppedError from None
        yield
        self.turns += 1
        if self.passed is not None:
            # The next process may have ended: it had no batch left (or its own error is raised).
            with suppress(BrokenPipeError):
                self.passed.send_bytes(b".")


class ImportStoppedError(Exception):
    """Another process of the import stopped (its error is the one raised): this one stops too."""


def _import_file(
    loader: Loader,
    path: Path,
    host: str,
    report: ImportReport,
    progress: Callable[[Path, int, int], None] | None,
    workers: int,
) -> None:
    source, by_path = _sources(path)
    # Read once every batch of the files before is committed (the processes that wrote them ended).
    cursor = SpoolCursor.objects.filter(source=source).first()
    if cursor is None and SpoolCursor.objects.filter(source=by_path).update(source=source):
        cursor = SpoolCursor.objects.filter(source=source).first()  # an import's before 2026-11-23
    log = _Log(loader, path, host, source, cursor.last_sequence if cursor else 0)
    if workers == 1 or _one_batch_at_most(path):
        _import_part(log, report, progress, _Part())
    else:
        _import_in_processes(log, report, progress, workers)
    if progress is not None:
        size = path.stat().st_size
        progress(path, size, size)


def _sources(path: Path) -> tuple[str, str]:
    """The file's cursor's name: its path's and its first line's hash, so that a log rotated under the
    same path (its first line another request) is imported from its first line, not from the old
    file's line count. Then the name imports before 2026-11-23 gave it, by its path only: such a
    cursor is taken over once (renamed), and is right unless the file was rotated since."""
    by_path = hashlib.sha256(str(path.resolve()).encode())
    old = "import:" + by_path.hexdigest()[:48]
    with path.open("rb") as raw:
        try:
            first = _reader(raw).readline()
        except (EOFError, gzip.BadGzipFile, zlib.error):
            first = b""  # nothing to import before its first line is whole
    by_path.update(b"\n" + first)
    return "import:" + by_path.hexdigest()[:48], old


def _one_batch_at_most(path: Path) -> bool:
    """Whether the file is too small to hold more than one batch of combined-format lines (uncompressed,
    and none shorter than 64 bytes): a second process would have nothing to do but start."""
    with path.open("rb") as raw:
        compressed = raw.read(2) == b"\x1f\x8b"
    return not compressed and path.stat().st_size <= BATCH_SIZE * _SHORTEST_LINE


@dataclass
class _Log:
    """One file being imported: what each of its processes reads, and where it makes its rows."""

    loader: Loader
    path: Path
    host: str
    source: str
    done: int  # the last line committed before this run


def _import_in_processes(
    log: _Log, report: ImportReport, progress: Callable[[Path, int, int], None] | None, workers: int
) -> None:
    """`workers` processes over one file, this one and forked ones: each makes its batches' rows while
    another writes its own, so on SQLite (which stores the rows in the writing process) two cores work."""
    # The parent's connections are closed before forking: a forked copy of one is not one.
    connections.close_all()
    warm_up_before_forking()
    context = multiprocessing.get_context("fork")
    ring = [context.Pipe(duplex=False) for _ in range(workers)]  # ring[i]: from process i to the next
    results = [context.Pipe(duplex=False) for _ in range(1, workers)]
    children = []
    for index in range(1, workers):
        child = context.Process(target=_child, args=(log, index, ring, results[index - 1][1]), daemon=True)
        child.start()
        children.append(child)
    parts = [_Part(index, workers, ring[index - 1][0], ring[index][1]) for index in range(workers)]
    _close_others(ring, parts[0])
    for _receiving, sending in results:
        sending.close()
    reported = len(report.broken_lines)  # those of the files before
    stopped = False
    try:
        _import_part(log, report, progress, parts[0])
    except ImportStoppedError:
        stopped = True  # a child's error is raised below
    finally:
        for end in (parts[0].given, parts[0].passed):
            assert end is not None
            end.close()
        outcomes = [_outcome(receiving, child) for (receiving, _sending), child in zip(results, children, strict=True)]
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
        _add(report, outcome, reported)
    if stopped:
        raise RuntimeError("an import process stopped before the end of the file")


def _close_others(ring: list[tuple[Connection, Connection]], part: _Part) -> None:
    """Closes the ends of the ring another process uses: a process's end of the pipe from the one
    before it then reads EOF once that one is gone."""
    for receiving, sending in ring:
        for end in (receiving, sending):
            if end is not part.given and end is not part.passed:
                end.close()


def _child(log: _Log, index: int, ring: list[tuple[Connection, Connection]], result: Connection) -> None:
    part = _Part(index, len(ring), ring[index - 1][0], ring[index][1])
    _close_others(ring, part)
    report = ImportReport()
    outcome: ImportReport | BaseException
    try:
        _import_part(log, report, None, part)
        outcome = report
    except ImportStoppedError:
        outcome = report  # the process that stopped first raises its own error
    except (Exception, KeyboardInterrupt) as error:
        # Handed to the parent, which raises it (Ctrl-C reaches every process of the group: no traceback here).
        outcome = error
    finally:
        for end in (part.given, part.passed):
            assert end is not None
            end.close()
        connections.close_all()
    try:
        result.send(outcome)
    except Exception:  # an error that does not pickle: its kind, never its message
        result.send(RuntimeError(f"an import process failed: {type(outcome).__name__}"))


def _outcome(receiving: Connection, child: BaseProcess) -> ImportReport | BaseException:
    try:
        outcome: ImportReport | BaseException = receiving.recv()
    except EOFError:
        child.join()
        return RuntimeError(f"an import process ended with exit code {child.exitcode}")
    child.join()
    return outcome


def _add(report: ImportReport, other: ImportReport, reported: int) -> None:
    """Adds another process's report of the same file; its broken lines go among this one's (after
    the `reported` of the files before), by number. Each process listed the first of its own."""
    report.lines += other.lines
    report.imported += other.imported
    report.skipped += other.skipped
    report.broken += other.broken
    report.refused += other.refused
    report.broken_lines[reported:] = sorted(report.broken_lines[reported:] + other.broken_lines, key=lambda at: at[1])
    del report.broken_lines[REPORTED_BROKEN:]


def _import_part(
    log: _Log, report: ImportReport, progress: Callable[[Path, int, int], None] | None, part: _Part
) -> None:
    loader, path, host, source = log.loader, log.path, log.host, log.source
    size = path.stat().st_size
    line = _Line(path.name, report, {}, {}, {"-": ""}, host)
    with path.open("rb") as raw:
        lines = _Lines(_reader(raw), log.done, part)
        for first, text, count in lines:
            # Each batch: the retention's cut-off as of now (an import can outlast a midnight).
            today = local_today()
            oldest = today - datetime.timedelta(days=settings.RAKSA_ACCESSLOG_RAW_DAYS)
            loader.forget_days_before(oldest)
            loader.forget_closed_days(today)  # and the salts of the days closed meanwhile
            line.kept_from = int(day_bounds(oldest)[0].timestamp()) * 1000
            line.kept_until = int(time.time() * 1000) + FUTURE_TOLERANCE_MS
            batch = line.records(text, first, count)
            try:
                report.imported += loader.store(
                    batch,
                    source=source,
                    last_sequence=first + count - 1,
                    offset=0,
                    turn=part.turn(),
                    written=partial(_still_kept, batch, oldest),
                )
            except DatabaseError:
                _still_kept(batch, oldest)  # the day's partitions the purge dropped (PostgreSQL): said so
                raise
            if progress is not None:
                progress(path, raw.tell(), size)
    if part.index == 0:
        report.lines += lines.skipped
        report.skipped += lines.skipped
        if lines.cut_short:
            report.unfinished.append(path.name)
        if lines.waiting:
            report.waiting.append((path.name, lines.waiting))


def _still_kept(batch: list[tuple], oldest: datetime.date) -> None:
    """Called inside a batch's transaction once its rows are written: raises if the retention's cut-off
    has passed one of its days since the batch was made (a midnight while it waited for its turn), when
    a purge may have removed that day already. From the rows' write on, a purge of their days waits for
    this transaction's commit (SQLite's one write lock; PostgreSQL's lock on the day's partition) and
    removes them with the day; a purge before it can only have come after the midnight seen here."""
    now_oldest = local_today() - datetime.timedelta(days=settings.RAKSA_ACCESSLOG_RAW_DAYS)
    if now_oldest == oldest or not batch:
        return
    kept_from = int(day_bounds(now_oldest)[0].timestamp()) * 1000
    if min(record[0] for record in batch) < kept_from:
        raise CutOffPassedError(
            "the raw records' retention passed the day of some lines while they were being imported "
            "(a midnight); nothing of their batch was stored: import again, and they are refused"
        )


class CutOffPassedError(Exception):
    """A batch's lines of a day the retention's cut-off passed while it waited for its turn."""


class _Lines:
    """This process's batches of a file's lines after line `done`: (the number of a batch's first line,
    its text, how many lines), read in blocks of whole lines. The other processes' lines are counted
    (one `count` of a block's newlines, in C) and passed over as bytes, never split or decoded."""

    def __init__(self, stream: BinaryIO, done: int, part: _Part) -> None:
        self.stream, self.done, self.part = stream, done, part
        self.skipped = 0  # lines up to `done` (already imported)
        self.cut_short = False  # a compressed stream that ended early or is damaged
        self.waiting = 0  # the number of a last line without its newline, left for the next run

    def __iter__(self) -> Iterator[tuple[int, str, int]]:
        step = BATCH_SIZE * self.part.count
        first = self.done + 1 + self.part.index * BATCH_SIZE  # the first line of this process's next batch
        pieces: list[bytes] = []
        number = 0  # the lines before the block
        for block in self._blocks():
            count = block.count(b"\n")
            start, position = number + 1, 0  # the block's first line not passed yet, and where it begins
            number += count
            while first <= number:  # this process's batch has lines in the rest of the block
                if start < first:
                    position = _after(block, position, first - start)
                    start = first
                last = min(first + BATCH_SIZE - 1, number)
                end = len(block) if last == number else _after(block, position, last - start + 1)
                pieces.append(block[position:end])
                start, position = last + 1, end
                if last < first + BATCH_SIZE - 1:
                    break  # the batch goes on in the next block
                yield first, b"".join(pieces).decode("utf-8", "replace"), BATCH_SIZE
                pieces = []
                first += step
        self.skipped = min(self.done, number)
        if pieces:
            yield first, b"".join(pieces).decode("utf-8", "replace"), number - first + 1
        if self.waiting:
            self.waiting = number + 1

    def _blocks(self) -> Iterator[bytes]:
        """The stream in blocks of whole lines, each ending with a newline. A last line without one is
        taken from a finished gzip stream (a rotated log) with one added; in a plain file it may still
        be being written, so it is left for the next run (`waiting`), as the spool ingester leaves a
        spool file's. A compressed stream that ends early or is damaged ends the blocks where it breaks
        (`cut_short`), its partial last line left."""
        stream, tail = self.stream, b""
        while True:
            try:
                chunk = stream.read(_BLOCK)
            except (EOFError, gzip.BadGzipFile, zlib.error):
                self.cut_short = True
                return
            if not chunk:
                break
            cut = chunk.rfind(b"\n") + 1
            if not cut:
                tail += chunk
                continue
            yield tail + chunk[:cut]
            tail = chunk[cut:]
        if tail and isinstance(stream, gzip.GzipFile):
            yield tail + b"\n"
        elif tail:
            self.waiting = -1  # its number is known once the lines before are counted (`__iter__`)


def _after(block: bytes, position: int, lines: int) -> int:
    """Where the line `lines` lines after the one at `position` begins (at a batch's edge only)."""
    for _ in range(lines):
        position = block.index(b"\n", position) + 1
    return position


@dataclass
class _Line:
    """What turns one process's lines into records: the file's name and the report (broken and refused
    lines), the distinct times, addresses and referrers already worked out (bounded), the host, and
    the first millisecond of the oldest day the retention keeps and the last it takes (the future's
    tolerance after now)."""

    name: str
    report: ImportReport
    times: dict[str, int]
    addresses: dict[str, str]
    referrers: dict[str, str]
    host: str
    kept_from: int = 0
    kept_until: int = 0

    def records(self, text: str, first: int, count: int) -> list[tuple]:
        """The records of a batch's lines (`count` lines from line number `first`): the time stamp a
        number of milliseconds, the address and referrer cleaned like live capture's."""
        report = self.report
        report.lines += count
        found: list[tuple[str, ...]] = _BATCH.findall(text)
        numbers: list[int] | None = None  # each found line's number, when some did not parse
        # A NUL (PostgreSQL's text cannot hold it) is looked for in the batch's text at once, in C.
        if len(found) != count or "\0" in text:
            found, numbers = [], []
            for number, line in enumerate(text.split("\n", count)[:count], start=first):
                match = _COMBINED.fullmatch(line)
                if match is None or "\0" in line:
                    self.broken(number)
                else:
                    found.append(match.groups())
                    numbers.append(number)
        times, addresses, referrers, host, kept_from, kept_until = (
            self.times,
            self.addresses,
            self.referrers,
            self.host,
            self.kept_from,
            self.kept_until,
        )
        # A batch's times are worked out again (logs come in time order: few stamps cross a batch's edge),
        # so that "the future" is as of the batch.
        times.clear()
        batch = []
        for index, (ip, stamp, method, target, status, size_sent, referrer, agent) in enumerate(found):
            time_ms = times.get(stamp)
            if time_ms is None:
                time_ms = _time_ms(stamp)
                time_ms = times[stamp] = time_ms if time_ms <= kept_until else _IMPOSSIBLE
            if time_ms < kept_from:
                number = first + index if numbers is None else numbers[index]
                if time_ms == _IMPOSSIBLE:  # or in the future
                    self.broken(number)
                else:
                    report.refused += 1
                continue
            address = addresses.get(target)
            if address is None:
                if len(addresses) > _REMEMBERED:
                    addresses.clear()
                page, _, query = target.partition("?")
                address = addresses[target] = clean_address(page, query)
            came_from = referrers.get(referrer)
            if came_from is None:
                if len(referrers) > _REMEMBERED:
                    referrers.clear()
                    referrers["-"] = ""
                came_from = referrers[referrer] = clean_referrer(referrer, host)
            batch.append(
                (
                    time_ms,
                    0,
                    method,
                    status,
                    size_sent if size_sent != "-" else "0",
                    ip,
                    host,
                    address,
                    came_from,
                    agent if agent != "-" else "",
                    "",
                    "",
                )
            )
        return batch

    def broken(self, number: int) -> None:
        self.report.broken += 1
        if len(self.report.broken_lines) < REPORTED_BROKEN:
            self.report.broken_lines.append((self.name, number))
