"""Importing existing web-server logs (nginx/Apache combined format, gzip too) as access records.

Lines go through the same cleaning as live capture (query allow-list, secret routes cut) and the
same Loader. A line that does not parse is counted and reported with its number, never fatal. The
source's cursor is its line number, so importing the same file twice adds nothing.
"""

import calendar
import gzip
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from raksa.accesslog.ingest import BATCH_SIZE, Loader, collector_paused
from raksa.accesslog.models import SpoolCursor
from raksa.accesslog.redaction import clean_address, clean_referrer

# %h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"; a quoted field is a run of plain characters
# between escapes ("unrolled", so the engine takes the run in one step instead of a choice per character).
_COMBINED = re.compile(
    r"(\S+) \S+ \S+ \[(\d\d/\w\w\w/\d{4}:\d\d:\d\d:\d\d [+-]\d{4})\] "
    r'"(\S+) (\S+)(?: [^"]*)?" (\d{3}) (\d+|-) "([^"\\]*(?:\\.[^"\\]*)*)" "([^"\\]*(?:\\.[^"\\]*)*)"'
)
_MONTHS = {name: number for number, name in enumerate(calendar.month_abbr) if name}
REPORTED_BROKEN = 100
_REMEMBERED = 10_000


@dataclass
class ImportReport:
    lines: int = 0
    imported: int = 0
    skipped: int = 0
    broken: int = 0
    broken_lines: list[tuple[str, int]] = field(default_factory=list)


def _reader(raw: BinaryIO) -> BinaryIO:
    """The file itself, or its decompressed stream when it is gzip (told by its magic bytes)."""
    magic = raw.read(2)
    raw.seek(0)
    return gzip.GzipFile(fileobj=raw) if magic == b"\x1f\x8b" else raw  # type: ignore[return-value]


class _Clock:
    """Epoch milliseconds of a combined-log time, computed once per distinct second."""

    def __init__(self) -> None:
        self._cache: dict[str, int] = {}

    def __call__(self, stamp: str) -> int:
        cached = self._cache.get(stamp)
        if cached is None:
            if len(self._cache) > 10_000:
                self._cache.clear()
            seconds = calendar.timegm(
                (
                    int(stamp[7:11]),
                    _MONTHS[stamp[3:6]],
                    int(stamp[0:2]),
                    int(stamp[12:14]),
                    int(stamp[15:17]),
                    int(stamp[18:20]),
                )
            )
            offset = (int(stamp[22:24]) * 60 + int(stamp[24:26])) * 60
            seconds -= offset if stamp[21] == "+" else -offset
            cached = self._cache[stamp] = seconds * 1000
        return cached


def import_logs(
    paths: list[Path], *, host: str = "", progress: Callable[[Path, int, int], None] | None = None
) -> ImportReport:
    report = ImportReport()
    loader = Loader()
    with collector_paused():
        for path in paths:
            _import_file(loader, path, host, report, progress)
    return report


def _import_file(
    loader: Loader, path: Path, host: str, report: ImportReport, progress: Callable[[Path, int, int], None] | None
) -> None:
    source = "import:" + hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:48]
    cursor = SpoolCursor.objects.filter(source=source).first()
    done = cursor.last_sequence if cursor else 0
    size = path.stat().st_size
    clock = _Clock()
    # Addresses and referrers repeat: each distinct one is cleaned once (bounded).
    addresses: dict[str, str] = {}
    referrers: dict[str, str] = {"-": ""}
    batch: list[tuple[str, ...]] = []
    number = 0
    with path.open("rb") as raw:
        for number, line in _numbered(_reader(raw)):
            report.lines += 1
            if number <= done:
                report.skipped += 1
                continue
            match = _COMBINED.match(line)
            if match is None:
                report.broken += 1
                if len(report.broken_lines) < REPORTED_BROKEN:
                    report.broken_lines.append((path.name, number))
                continue
            ip, stamp, method, target, status, size_sent, referrer, agent = match.groups()
            try:
                time_ms = clock(stamp)
            except (KeyError, ValueError):
                report.broken += 1
                if len(report.broken_lines) < REPORTED_BROKEN:
                    report.broken_lines.append((path.name, number))
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
                    str(time_ms),
                    "0",
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
            if len(batch) >= BATCH_SIZE:
                _flush(loader, batch, source, number, report)
                batch = []
                if progress is not None:
                    progress(path, raw.tell(), size)
    _flush(loader, batch, source, number, report)
    if progress is not None:
        progress(path, size, size)


def _numbered(handle: BinaryIO) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(handle, start=1):
        yield number, line.decode("utf-8", "replace").rstrip("\r\n")


def _flush(loader: Loader, batch: list[tuple[str, ...]], source: str, number: int, report: ImportReport) -> None:
    report.imported += loader.store(batch, source=source, last_sequence=number, offset=0)
