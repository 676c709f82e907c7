"""Moving records into the database in batches, exactly once, with their roll-ups.

A `Loader` turns record tuples (the spool's FIELDS) into rows: the day and hour in the site's time
zone, the browser parsed once per distinct string (ua-parser), the IP and browser string sealed under
the day's key once per distinct client, the IP index, the daily visitor key and the truncated network.
`Loader.write` then stores a batch in ONE transaction: the rows (COPY on PostgreSQL, executemany on
SQLite), the roll-ups (upserts that add), the visitors counted today, and the cursor of the source
(its last sequence): a batch is either all in, with its cursor, or not at all, so a replay after a
crash skips exactly what is in.
"""

import datetime
import fcntl
import ipaddress
import logging
import os
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from ua_parser import parse as parse_user_agent

from raksa.accesslog import partitions, spool
from raksa.accesslog.daykeys import DayKeys, DayWriter, SaltDestroyedError
from raksa.accesslog.models import AccessRecord, DailyCount, DailyTotal, DayVisitor, Dimension, SpoolCursor

log = logging.getLogger(__name__)

# One record: time_ms, duration_us, method, status, bytes_sent, ip, host, path, referrer, user_agent,
# subject_id, request_id (all strings, as in the spool).
Record = Sequence[str]

COLUMNS = (
    "day",
    "time",
    "method",
    "path",
    "status",
    "bytes_sent",
    "duration_us",
    "host",
    "referrer",
    "subject_id",
    "request_id",
    "ip_sealed",
    "user_agent_sealed",
    "ip_index",
    "visitor",
    "browser_family",
    "browser_version",
    "os_family",
    "device_type",
)
BATCH_SIZE = 20_000
_READ_CHUNK = 4 * 1024 * 1024
_COUNTED_METHODS = {"GET", "HEAD"}


def truncate_ip(ip: str) -> str:
    """The network kept for statistics: IPv4 /24, IPv6 /48."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
        return str(ipaddress.IPv6Network((int(address) >> 80 << 80, 48)))
    v4 = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else address
    assert v4 is not None
    return str(ipaddress.IPv4Network((int(v4) >> 8 << 8, 24)))


def browser_of(user_agent: str) -> tuple[str, str, str, str]:
    """(browser family, major version, OS family, device type) of a browser string."""
    result = parse_user_agent(user_agent)
    family = result.user_agent.family if result.user_agent else "Other"
    version = (result.user_agent.major or "") if result.user_agent else ""
    os_family = result.os.family if result.os else "Other"
    device = result.device.family if result.device else "Other"
    if device == "Spider" or "bot" in family.lower():
        kind = "bot"
    elif "iPad" in device or "Tablet" in device or (os_family == "Android" and "Mobile" not in user_agent):
        kind = "tablet"
    elif os_family in {"Android", "iOS"} or "Mobile" in family:
        kind = "mobile"
    elif family == "Other" and os_family == "Other":
        kind = "other"
    else:
        kind = "desktop"
    return family[:50], version[:20], os_family[:50], kind


def referring_site(referrer: str) -> str:
    """Another site's origin host, or '' for a direct visit or one of our own pages."""
    if "://" not in referrer:
        return ""
    return referrer.split("://", 1)[1].split("/", 1)[0]


@dataclass
class Rollup:
    counts: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    totals: Counter[str] = field(default_factory=Counter)
    visitors: set[tuple[str, str]] = field(default_factory=set)

    def add(self, combos: Counter[tuple[str, ...]]) -> None:
        counts = self.counts
        for (day, page, browser, os_family, device, referrer, hour, network), views in combos.items():
            self.totals[day] += views
            counts[day, Dimension.PAGE, page] += views
            counts[day, Dimension.BROWSER, browser] += views
            counts[day, Dimension.OS, os_family] += views
            counts[day, Dimension.DEVICE, device] += views
            counts[day, Dimension.HOUR, hour] += views
            if referrer:
                counts[day, Dimension.REFERRER, referrer] += views
            if network:
                counts[day, Dimension.NETWORK, network] += views


class Loader:
    """Turns records into rows and stores them; keeps unwrapped day keys for its own lifetime only."""

    def __init__(self) -> None:
        self.postgres = connection.vendor == "postgresql"
        self.zone = ZoneInfo(settings.TIME_ZONE)
        self.keys = DayKeys()
        self._writers: dict[str, DayWriter] = {}
        self._clock: dict[int, tuple[str, str, datetime.date]] = {}
        self._browsers: dict[str, tuple[str, str, str, str]] = {}
        self._clients: dict[tuple[str, str, str], tuple[bytes, bytes, str, str, str]] = {}
        self.salt_missing = 0
        self._known_days: set[str] = set()

    def rows(self, records: Iterable[Record]) -> tuple[list[tuple], Rollup]:
        rows: list[tuple] = []
        combos: Counter[tuple[str, ...]] = Counter()
        rollup = Rollup()
        postgres = self.postgres
        for time_ms, duration, method, status, size, ip, host, path, referrer, agent, subject, request_id in records:
            ms = int(time_ms)
            second = ms // 1000
            clock = self._clock.get(second // 900)
            if clock is None:
                clock = self._tick(second)
            day, local_hour, date = clock
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(second))
            # Exactly as Django writes datetimes (str() of naive UTC on SQLite: no fraction when zero),
            # so that its lookups compare like with like.
            if ms % 1000:
                stamp = f"{stamp}.{ms % 1000:03d}000"
            if postgres:
                stamp += "+00"
            browser = self._browsers.get(agent)
            if browser is None:
                browser = self._browsers[agent] = browser_of(agent)
            client = self._clients.get((day, ip, agent))
            if client is None:
                client = self._client(day, date, ip, agent)
            ip_sealed, agent_sealed, ip_index, visitor, network = client
            code = int(status)
            rows.append(
                (
                    day,
                    stamp,
                    method[:10],
                    path[:2000],
                    code,
                    int(size or 0),
                    int(duration or 0),
                    host[:255],
                    referrer[:2000],
                    subject.replace("-", "") or None,
                    request_id[:32],
                    ip_sealed,
                    agent_sealed,
                    ip_index,
                    visitor,
                    *browser,
                )
            )
            if method in _COUNTED_METHODS and code < 400 and browser[3] != "bot":
                combos[
                    day,
                    path.split("?", 1)[0][:500],
                    browser[0],
                    browser[2],
                    browser[3],
                    referring_site(referrer),
                    local_hour,
                    network,
                ] += 1
                if visitor:
                    rollup.visitors.add((day, visitor))
        rollup.add(combos)
        return rows, rollup

    def _tick(self, second: int) -> tuple[str, str, datetime.date]:
        local = datetime.datetime.fromtimestamp(second, self.zone)
        clock = (local.date().isoformat(), f"{local.hour:02d}", local.date())
        self._clock[second // 900] = clock
        return clock

    def _client(self, day: str, date: datetime.date, ip: str, agent: str) -> tuple[bytes, bytes, str, str, str]:
        writer = self._writers.get(day)
        if writer is None:
            writer = self._writers[day] = self.keys.for_writing(date)
        ip_index = writer.ip_index(ip)
        try:
            visitor = writer.visitor(ip, agent)
        except SaltDestroyedError:
            # Late records of a closed day still count as views, never as visitors.
            self.salt_missing += 1
            visitor = ""
        client = (
            writer.seal("ip", ip, ip_index),
            writer.seal("user_agent", agent, ip_index),
            ip_index,
            visitor,
            truncate_ip(ip),
        )
        self._clients[day, ip, agent] = client
        return client

    def write(self, rows: list[tuple], rollup: Rollup, *, source: str, last_sequence: int, offset: int) -> None:
        """Stores one batch, its roll-ups and its source's cursor in one transaction."""
        days = {row[0] for row in rows} - self._known_days
        if days and self.postgres:
            partitions.ensure_days(sorted(days))
        self._known_days |= days
        with transaction.atomic(), connection.cursor() as cursor:
            if rows:
                self._insert_rows(cursor, rows)
                self._add_rollup(cursor, rollup)
            SpoolCursor.objects.update_or_create(
                source=source, defaults={"last_sequence": last_sequence, "offset": offset}
            )

    def _insert_rows(self, cursor: object, rows: list[tuple]) -> None:
        table = AccessRecord._meta.db_table
        if self.postgres:
            raw = cursor.cursor  # type: ignore[attr-defined]
            with raw.copy(f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(COLUMNS))
            cursor.executemany(  # type: ignore[attr-defined]
                f"INSERT INTO {table} ({', '.join(COLUMNS)}) VALUES ({marks})",  # noqa: S608  (table names from model meta)  # nosec B608
                rows,
            )

    def _add_rollup(self, cursor: object, rollup: Rollup) -> None:
        counts = DailyCount._meta.db_table
        totals = DailyTotal._meta.db_table
        visitors = DayVisitor._meta.db_table
        execute = cursor.execute  # type: ignore[attr-defined]
        executemany = cursor.executemany  # type: ignore[attr-defined]
        executemany(
            f"INSERT INTO {counts} (day, dimension, key, views) VALUES (%s, %s, %s, %s) "  # noqa: S608  (table names from model meta)  # nosec B608
            f"ON CONFLICT (day, dimension, key) DO UPDATE SET views = {counts}.views + excluded.views",
            [(day, str(dimension), key, views) for (day, dimension, key), views in rollup.counts.items()],
        )
        executemany(
            f"INSERT INTO {visitors} (day, visitor) VALUES (%s, %s) ON CONFLICT (day, visitor) DO NOTHING",  # noqa: S608  (table names from model meta)  # nosec B608
            sorted(rollup.visitors),
        )
        for day, views in rollup.totals.items():
            execute(
                f"INSERT INTO {totals} (day, views, visitors) VALUES (%s, %s, 0) "  # noqa: S608  (table names from model meta)  # nosec B608
                f"ON CONFLICT (day) DO UPDATE SET views = {totals}.views + excluded.views",
                [day, views],
            )
        # Only days still counting visitors: a closed day's visitor keys are gone with its salt.
        for day in sorted({day for day, _visitor in rollup.visitors}):
            execute(
                f"UPDATE {totals} SET visitors = (SELECT COUNT(*) FROM {visitors} WHERE day = %s) WHERE day = %s",  # noqa: S608  (table names from model meta)  # nosec B608
                [day, day],
            )


@dataclass
class IngestReport:
    records: int = 0
    files: int = 0
    deleted: int = 0
    broken: list[str] = field(default_factory=list)


def ingest_spool(*, directory: Path | None = None, batch_size: int = BATCH_SIZE) -> IngestReport:
    """Ingests every spool file (leftovers of dead workers included); deletes sealed, finished files.

    One ingester at a time per spool directory: a second one started on the same host (a second
    `raksa accesslog ingest --follow`, a manual run beside the service) waits for the first's round
    to end, then reads the cursors it committed, so no batch is read from the same place twice.
    """
    directory = directory or Path(settings.RAKSA_ACCESSLOG_SPOOL_DIR)
    if not directory.is_dir():
        return IngestReport()  # nothing spooled yet (the first write creates the directory)
    with _only_ingester(directory):
        return _ingest_directory(directory, batch_size)


@contextmanager
def _only_ingester(directory: Path) -> Iterator[None]:
    """An exclusive flock on the spool directory itself: no file to create (a full or read-only spool
    is still ingested), and the kernel lets it go when its holder dies, so a killed ingester never
    blocks the next one."""
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing lets the lock go


def _ingest_directory(directory: Path, batch_size: int) -> IngestReport:
    report = IngestReport()
    loader = Loader()
    for path in spool.spool_files(directory):
        sealed = spool.is_sealed(path)
        finished = _ingest_file(loader, path, sealed=sealed, batch_size=batch_size, report=report)
        report.files += 1
        if sealed and finished:
            # The cursor stays (until the retention purge): a file restored by mistake adds nothing.
            path.unlink(missing_ok=True)
            report.deleted += 1
    if loader.salt_missing:
        log.warning("access log: %d records arrived after their day's visitor salt was destroyed", loader.salt_missing)
    return report


def _ingest_file(loader: Loader, path: Path, *, sealed: bool, batch_size: int, report: IngestReport) -> bool:
    """Ingests what is complete in one file; True when nothing is left to read in it."""
    source = path.stem
    cursor = SpoolCursor.objects.filter(source=source).first()
    offset = start = cursor.offset if cursor else 0
    last_sequence = cursor.last_sequence if cursor else 0
    batch: list[list[str]] = []
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return False
    with handle:
        handle.seek(offset)
        tail = b""
        while True:
            chunk = handle.read(_READ_CHUNK)
            if not chunk:
                break
            lines = (tail + chunk).split(b"\n")
            tail = lines.pop()
            for raw in lines:
                offset += len(raw) + 1
                fields = raw.decode("utf-8", "replace").split("\t")
                if len(fields) != 13 or not fields[0].isdigit():
                    report.broken.append(f"{path.name} at byte {offset - len(raw) - 1}")
                    log.error("access log: a broken spool line in %s at byte %d", path.name, offset - len(raw) - 1)
                    continue
                sequence = int(fields[0])
                if sequence <= last_sequence:
                    continue
                last_sequence = sequence
                batch.append([spool.unescape(value) for value in fields[1:]])
                if len(batch) >= batch_size:
                    _flush(loader, batch, source, last_sequence, offset, report)
                    batch = []
        if batch or offset != start:
            _flush(loader, batch, source, last_sequence, offset, report)
        if tail and sealed:
            report.broken.append(f"{path.name} at byte {offset} (unfinished last line)")
            log.error("access log: %s ends with an unfinished line at byte %d", path.name, offset)
            tail = b""
    return not tail


def _flush(
    loader: Loader, batch: list[list[str]], source: str, last_sequence: int, offset: int, report: IngestReport
) -> None:
    rows, rollup = loader.rows(batch)
    loader.write(rows, rollup, source=source, last_sequence=last_sequence, offset=offset)
    report.records += len(rows)
