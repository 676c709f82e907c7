"""Moving records into the database in batches, exactly once, with their roll-ups.

A `Loader` turns record tuples (the spool's FIELDS) into rows: the day and hour in the site's time
zone, and the record's client of the day (`DayClient`: its IP and browser string sealed under the
day's key, the IP index, the browser parsed by ua-parser), found or made once per distinct client
with its daily visitor key and truncated network. `Loader.store` first makes the batch's new clients
(one short transaction: found again by their keyed client key whoever made them), then stores the
batch in ONE transaction: the rows (COPY on PostgreSQL, executemany on SQLite), the roll-ups (upserts
that add), the visitors counted today, and the cursor of the source (its last sequence): a batch is
either all in, with its cursor, or not at all, so a replay after a crash skips exactly what is in.
"""

import datetime
import fcntl
import gc
import ipaddress
import logging
import multiprocessing
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

import psycopg
from django.conf import settings
from django.db import DataError, connection, connections, transaction
from ua_parser import parse as parse_user_agent

from raksa.accesslog import partitions, spool
from raksa.accesslog.daykeys import DayKeys, DayWriter, days_not_closed
from raksa.accesslog.models import AccessRecord, DailyCount, DailyTotal, DayClient, DayVisitor, Dimension, SpoolCursor

log = logging.getLogger(__name__)

# One record: time_ms, duration_us, method, status, bytes_sent, ip, host, path, referrer, user_agent,
# subject_id, request_id (all strings, as in the spool; the importer passes time_ms and duration_us as ints).
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
    "client_id",
)
# The PostgreSQL types of COLUMNS, for the binary COPY.
COPY_TYPES = (
    "date",
    "timestamptz",
    "varchar",
    "varchar",
    "int2",
    "int8",
    "int8",
    "varchar",
    "varchar",
    "uuid",
    "varchar",
    "int8",
)
# A DayClient's columns (its ID comes from the database) and their PostgreSQL types.
CLIENT_COLUMNS = (
    "day",
    "digest",
    "ip_sealed",
    "user_agent_sealed",
    "ip_index",
    "browser_family",
    "browser_version",
    "os_family",
    "device_type",
)
CLIENT_TYPES = ("date", "varchar", "bytea", "bytea", "varchar", "varchar", "varchar", "varchar", "varchar")
BATCH_SIZE = 20_000
_WARM_UP_AGENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0"
SQLITE_CACHE_KIB = 64 * 1024
SQLITE_MMAP_BYTES = 1 << 30
_READ_CHUNK = 4 * 1024 * 1024
_COUNTED_METHODS = {"GET", "HEAD"}
_WEB_SCHEMES = ("http", "https")
_ROLLUP_KEY_LENGTH = DailyCount._meta.get_field("key").max_length
# What each roll-up statement inserts: PostgreSQL takes each column as one array (one round trip,
# written by `_array`), SQLite one row per executemany parameter set. Keyed by "is PostgreSQL".
_ROLLUP_VALUES = {
    True: (
        "SELECT * FROM unnest(%s::date[], %s::varchar[], %s::varchar[], %s::bigint[])",
        "SELECT day, views, 0 FROM unnest(%s::date[], %s::bigint[]) AS added (day, views)",
        "SELECT %s::date, unnest(%s::varchar[])",
    ),
    False: ("VALUES (%s, %s, %s, %s)", "VALUES (%s, %s, 0)", "VALUES (%s, %s)"),
}


def _array(values: Iterable[str], *, quoted: bool = True) -> str:
    """PostgreSQL's text form of an array of these strings, for a `%s::type[]` parameter: written here
    in one join, where the driver dumps a list element by element (1.2 to 2.5 µs each, measured; a
    batch's roll-up has about half as many elements as records). In quotes, with backslashes and
    quotes escaped, unless `quoted` is false for values that need neither (days, numbers, hex keys)."""
    if quoted:
        values = ['"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' for value in values]
    return "{" + ",".join(values) + "}"


def _client_array(kind: str, column: Sequence) -> str | list[bytes]:
    """One column of the new clients as `_save_clients` binds it: the sealed values as a list (bound in
    the binary format), the others as one array's text (`_array`), where the driver dumps a list element
    by element in Python."""
    if kind == "bytea":
        return list(column)
    if kind == "date":
        return _array([day.isoformat() for day in column], quoted=False)
    return _array(column)


# "MM:SS" of each second of an hour, and the fraction Django writes for each millisecond (none for 0).
_CLOCK_FACES = [f"{second // 60:02d}:{second % 60:02d}" for second in range(3600)]
_FRACTIONS = ["", *(f".{ms:03d}000" for ms in range(1, 1000))]
# How many quarters of an hour, browser strings and clients a Loader remembers before it starts afresh (memory bound).
_REMEMBERED = 100_000


# A dotted quad as a client address is written (no leading zeros): its /24 is cut from the text.
_IPV4 = re.compile(r"((?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3})(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)")


def truncate_ip(ip: str) -> str:
    """The network kept for statistics: IPv4 /24, IPv6 /48."""
    match = _IPV4.fullmatch(ip)
    if match is not None:
        return f"{match[1]}0/24"
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
        return str(ipaddress.IPv6Network((int(address) >> 80 << 80, 48)))
    v4 = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else address
    assert v4 is not None
    return str(ipaddress.IPv4Network((int(v4) >> 8 << 8, 24)))


def warm_up_before_forking() -> None:
    """ua-parser compiles its expressions at its first parse (a quarter of a second here): once, in the
    process about to fork ingesters, and every forked one has them."""
    browser_of(_WARM_UP_AGENT)


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
    """Another site's origin host, or '' for a direct visit or one of our own pages (which the capture
    keeps as a path: one such as `/x://AAAA…` is no site, and its 600 characters stopped ingest on
    PostgreSQL at every round, past the roll-up key's 500)."""
    scheme, sep, rest = referrer.partition("://")
    if not sep or scheme not in _WEB_SCHEMES:
        return ""
    return rest.partition("/")[0][:_ROLLUP_KEY_LENGTH]


def copy_rows(
    cursor: psycopg.Cursor,
    rows: Iterable[tuple],
    *,
    table: str = "",
    columns: Sequence[str] = COLUMNS,
    types: Sequence[str] = COPY_TYPES,
) -> None:
    """COPY of made rows into the raw table (PostgreSQL), in the binary format: no value is turned
    into text and parsed back (the sealed values' hex twice their size), which measured 1.4x the
    rows a second of a text COPY and half its CPU in this process. The benchmark's bare COPY is this
    (and, with the client table's name, columns and types, its bare COPY of the clients)."""
    with cursor.copy(
        f"COPY {table or AccessRecord._meta.db_table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
    ) as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)


@dataclass
class Rollup:
    """What one batch adds to the roll-ups: views by (day, dimension, key), by day, and the visitor keys."""

    counts: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    totals: Counter[str] = field(default_factory=Counter)
    visitors: set[tuple[str, str]] = field(default_factory=set)
    _sorted: tuple[list, list, dict[str, list[str]]] | None = None
    _count_rows: list[tuple[str, str, str, int]] | None = None

    def in_order(self) -> tuple[list, list, dict[str, list[str]]]:
        """The counts, the totals and each day's visitor keys, sorted (worked out once: `store` does it
        before its turn at the database)."""
        if self._sorted is None:
            by_day: dict[str, list[str]] = {}
            for day, visitor in sorted(self.visitors):
                by_day.setdefault(day, []).append(visitor)
            self._sorted = (sorted(self.counts.items()), sorted(self.totals.items()), by_day)
        return self._sorted

    def count_rows(self) -> list[tuple[str, str, str, int]]:
        """The sorted counts as SQLite's executemany takes them, worked out once: `store` does it before
        its turn at the database (a batch's 16,000 measured 14 ms, which the other process waited for)."""
        if self._count_rows is None:
            counted = self.in_order()[0]
            self._count_rows = [(day, str(dimension), key, views) for (day, dimension, key), views in counted]
        return self._count_rows


# One client of a day as a Loader remembers it: its DayClient ID, daily visitor key ('' once the salt
# is gone), truncated network, and the parse of its browser string.
Client = tuple[int, str, str, tuple[str, str, str, str]]
# A client not yet met by this Loader: its DayClient row, then what Client holds after the ID.
NewClient = tuple[tuple, str, str, tuple[str, str, str, str]]


class Loader:
    """Turns records into rows and stores them; keeps unwrapped day keys for its own lifetime only.

    Everything that repeats is worked out once and remembered (bounded): the day, hour and UTC
    hour of each quarter of an hour, the parse of each browser string, and each client (IP and
    browser string) of a day with its DayClient ID, visitor key and network, so a record that
    repeats a known client costs a few dictionary look-ups and one tuple.
    """

    def __init__(self) -> None:
        self.postgres = connection.vendor == "postgresql"
        self.zone = ZoneInfo(settings.TIME_ZONE)
        self.keys = DayKeys()
        self._writers: dict[str, DayWriter] = {}
        self._quarters: dict[int, tuple[str, str, str, int, datetime.date]] = {}
        self._browsers: dict[str, tuple[str, str, str, str]] = {}
        self._clients: dict[tuple[str, str, str], Client] = {}
        self.salt_missing = 0
        self._known_days: set[str] = set()
        self._forgotten_before: datetime.date | None = None
        # The visitor keys this Loader's committed batches counted: already in DayVisitor, so not
        # inserted again (a day's visitor comes back in batch after batch of an import).
        self._counted: set[tuple[str, str]] = set()
        self._tuned: object = None
        self._tune()

    def _tune(self) -> None:
        """SQLite's default page cache (2 MiB) is smaller than the indexes an ingest writes into:
        inserts then read pages back from the OS. A bigger cache for this connection only (the
        ingester's; a web worker's stays small) measured 15 to 30% less CPU per row. Another process's
        commit empties that cache (an import's processes take turns): the database's pages are then
        read through a memory map, without a system call each, which measured the 4 µs a record that
        the second process cost down to nothing. Set again on each new connection (a forked process
        opens its own)."""
        if self.postgres:
            return
        connection.ensure_connection()
        if connection.connection is not self._tuned:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
                cursor.execute(f"PRAGMA mmap_size = {SQLITE_MMAP_BYTES}")
            self._tuned = connection.connection

    def forget_days_before(self, day: datetime.date) -> None:
        """Forgets what it remembers of the days before `day` (their clients' IDs, unwrapped keys and
        partitions), which a retention purge may have removed since: a long-running Loader (an import's)
        then never points a record at a purged day's client, seals under its destroyed key, or writes to
        its dropped partition. Cheap when `day` has not changed since the last call."""
        if day == self._forgotten_before:
            return
        self._forgotten_before = day
        before = day.isoformat()
        self._forget(lambda name: name < before)

    def forget_closed_days(self, today: datetime.date) -> None:
        """Forgets the writers, clients and counted visitors of the past days whose visitor salt was
        destroyed since it unwrapped it (`actions.destroy_past_salts`, once a day is over): a
        long-running Loader (an import's) then counts their later records as views only, as a new one
        would, instead of visitors under a salt that no longer exists. One query, and only while it
        holds the salt of a day before `today`."""
        first = today.isoformat()
        past = [writer.day for name, writer in self._writers.items() if name < first and writer.salted]
        if not past:
            return
        still_open = set(days_not_closed(min(past), max(past)))
        closed = {day.isoformat() for day in past if day not in still_open}
        if closed:
            self._forget(closed.__contains__)

    def _forget(self, gone: Callable[[str], bool]) -> None:
        """Forgets the clients, counted visitors, writers and partitions of the days (ISO dates) `gone`
        names; every day's key is unwrapped again when next met (as it now is: destroyed or without its salt)."""
        self._clients = {key: client for key, client in self._clients.items() if not gone(key[0])}
        self._counted = {counted for counted in self._counted if not gone(counted[0])}
        self._writers = {name: writer for name, writer in self._writers.items() if not gone(name)}
        self._known_days = {name for name in self._known_days if not gone(name)}
        self.keys = DayKeys()

    def store(
        self,
        records: Sequence[Record],
        *,
        source: str,
        last_sequence: int,
        offset: int,
        turn: AbstractContextManager[object] | None = None,
        written: Callable[[], object] | None = None,
    ) -> int:
        """Stores one batch of records, its roll-ups and its source's cursor in one transaction;
        returns how many records. The batch's new clients are made first (`_save_clients`, a short
        transaction of their own). On PostgreSQL rows are made while they are written: the server
        stores the COPY's first rows while this process makes the next ones. On SQLite, which stores
        them in this process, they are made first, before `turn` (the processes of one import take
        turns at the database, so that their batches commit in order) is entered, so that another
        process's batch is written meanwhile. Saving the new clients takes SQLite's one write lock,
        which another process's batch holds while it is written: there the new clients are saved
        inside the turn, and the rows are made before it with a stand-in ID (negative) for each,
        replaced once the clients are saved (`_with_ids`). `written` is called inside the transaction
        once the rows are written: an error it raises rolls the batch back."""
        self._tune()
        days: set[str] = set()
        new = self._new_clients(records, days=days) if records else {}
        if self.postgres:
            self._ensure_partitions(days)
        later = bool(new) and turn is not None and not self.postgres
        if later:
            for number, (key, (_row, *client)) in enumerate(new.items(), start=1):
                self._clients[key] = (-number, *client)  # type: ignore[assignment]
        elif new:
            self._save_clients(new)
        rollup = Rollup()
        rows: Iterable[tuple] = self._rows(records, rollup)
        if not self.postgres:
            rows = list(rows)
            rollup.count_rows()
        try:
            with turn or nullcontext(), transaction.atomic(), connection.cursor() as cursor:
                if later:
                    self._save_clients(new)
                    rows = self._with_ids(rows, new)  # type: ignore[arg-type]
                if records:
                    self._insert_rows(cursor, rows)
                    self._add_rollup(cursor, rollup)
                if written is not None:
                    written()  # holding what the rows locked (the importer checks its cut-off again)
                SpoolCursor.objects.update_or_create(
                    source=source, defaults={"last_sequence": last_sequence, "offset": offset}
                )
        except BaseException:
            if later:  # the stand-ins go (the clients are found again by the batch's replay)
                for key in new:
                    self._clients.pop(key, None)
            raise
        if len(self._counted) > _REMEMBERED:
            self._counted.clear()
        self._counted |= rollup.visitors
        return len(records)

    def _with_ids(self, rows: list[tuple], new: dict[tuple[str, str, str], NewClient]) -> list[tuple]:
        """The rows with each new client's stand-in ID (-1, -2, … in order of arrival) replaced by its
        DayClient ID, now saved."""
        ids = [0] + [self._clients[key][0] for key in new]
        return [row if row[-1] > 0 else (*row[:-1], ids[-row[-1]]) for row in rows]

    def rows(self, records: Sequence[Record], *, first_client: int = 1) -> tuple[list[tuple], list[tuple]]:
        """The rows `store` would write for these records, without the database (the benchmark's bare
        insert takes them): the new clients' rows, and the records' rows pointing to those clients
        numbered from `first_client` in order of arrival, as the database numbers them."""
        new = self._new_clients(records, days=set())
        for number, (key, (_row, *client)) in enumerate(new.items(), start=first_client):
            self._clients[key] = (number, *client)  # type: ignore[assignment]
        return [row for row, *_client in new.values()], list(self._rows(records, Rollup()))

    def _new_clients(self, records: Sequence[Record], *, days: set[str]) -> dict[tuple[str, str, str], NewClient]:
        """The batch's clients this Loader has not met yet, each with its DayClient row made (sealed,
        hashed, its browser parsed), in order of first arrival; the batch's days are added to `days`."""
        quarters, clients, browsers = self._quarters, self._clients, self._browsers
        if len(clients) > _REMEMBERED:
            # Here only, between batches: the batch's clients then stay until its rows are made.
            clients.clear()
        new: dict[tuple[str, str, str], NewClient] = {}
        postgres = self.postgres
        current: int | None = None
        for record in records:
            quarter = int(record[0]) // 900_000
            if quarter != current:  # records come in time order, nearly
                current = quarter
                clock = quarters.get(quarter) or self._quarter(quarter)
                days.add(clock[0])
            key = (clock[0], record[5], record[9])
            if key in clients or key in new:
                continue
            day, ip, agent = key
            writer = self._writers.get(day)
            if writer is None:
                writer = self._writers[day] = self.keys.for_writing(clock[4])
            ip_sealed, agent_sealed, ip_index, visitor, digest = writer.client(ip, agent)
            if not visitor:
                # Late records of a closed day still count as views, never as visitors.
                self.salt_missing += 1
            browser = browsers.get(agent)
            if browser is None:
                if len(browsers) > _REMEMBERED:
                    browsers.clear()
                browser = browsers[agent] = browser_of(agent)
            row = (clock[4] if postgres else day, digest, ip_sealed, agent_sealed, ip_index, *browser)
            new[key] = (row, visitor, truncate_ip(ip), browser)
        return new

    def _save_clients(self, new: dict[tuple[str, str, str], NewClient]) -> None:
        """Makes the new clients' DayClient rows, or finds those another ingester (or this one before a
        restart) made, and remembers their IDs.

        One short transaction of its own, before the batch's: an ingester meeting a client another is
        making waits for that statement only, not for the other's whole batch. A client made for a
        batch that then fails stays, and is found again by the batch's replay. Rows go in sorted by
        (day, client key) in every ingester, so two inserting the same clients at once wait for each
        other in one order and never deadlock; the second's conflicting rows are skipped
        (`ON CONFLICT DO NOTHING`) and read back.
        """
        table = DayClient._meta.db_table
        ordered = sorted(new.items(), key=lambda item: (item[0][0], item[1][0][1]))
        ids: dict[tuple[str, str], int] = {}
        columns = ", ".join(CLIENT_COLUMNS)
        with transaction.atomic(), connection.cursor() as cursor:
            if self.postgres:
                arrays = ", ".join(f"%s::{kind}[]" for kind in CLIENT_TYPES)
                # Bound on the server, in the binary format: Django's client-side binding would write the
                # sealed values into the statement as escaped text (measured 17 us a client, all told).
                with psycopg.Cursor(cursor.cursor.connection) as bound, cursor.db.wrap_database_errors:
                    bound.execute(
                        f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays}) ORDER BY 1, 2 "  # noqa: S608  (table names from model meta)  # nosec B608
                        "ON CONFLICT (day, digest) DO NOTHING RETURNING day, digest, id",
                        [
                            _client_array(kind, column)
                            for kind, column in zip(
                                CLIENT_TYPES, zip(*(made[0] for _key, made in ordered), strict=True), strict=True
                            )
                        ],
                        binary=True,
                    )
                    ids.update(((day.isoformat(), digest), client_id) for day, digest, client_id in bound.fetchall())
            else:
                marks = ", ".join(["%s"] * len(CLIENT_COLUMNS))
                cursor.executemany(
                    f"INSERT INTO {table} ({columns}) VALUES ({marks}) ON CONFLICT (day, digest) DO NOTHING",  # noqa: S608  (table names from model meta)  # nosec B608
                    [made[0] for _key, made in ordered],
                )
            # What this statement did not make (another ingester's), read back a day at a time.
            missing: dict[str, list[str]] = {}
            for (day, _ip, _agent), made in ordered:
                if (day, made[0][1]) not in ids:
                    missing.setdefault(day, []).append(made[0][1])
            for day, digests in missing.items():
                for start in range(0, len(digests), 500):
                    chunk = digests[start : start + 500]
                    marks = ", ".join(["%s"] * len(chunk))
                    cursor.execute(
                        f"SELECT digest, id FROM {table} WHERE day = %s AND digest IN ({marks})",  # noqa: S608  (table names from model meta)  # nosec B608
                        [day, *chunk],
                    )
                    ids.update(((day, digest), client_id) for digest, client_id in cursor.fetchall())
        clients = self._clients
        for key, (row, visitor, network, browser) in ordered:
            clients[key] = (ids[key[0], row[1]], visitor, network, browser)

    def _rows(self, records: Iterable[Record], rollup: Rollup) -> Iterator[tuple]:
        """Each record's row, in order; the batch's roll-up is added to `rollup` once all are made.
        Every client of the batch is known by then (`_new_clients`, `_save_clients`)."""
        quarters, clients = self._quarters, self._clients
        # Page views are tallied per record by what the dimensions follow from (the client, the
        # quarter of an hour, the address, the referrer), then spread over the dimensions per batch.
        by_client: dict[tuple[str, str, str], list] = {}
        by_quarter: dict[int, int] = {}
        # A day's views by address and by referrer: the day is looked up when the quarter changes only.
        by_address: dict[str, dict[str, int]] = {}
        by_referrer: dict[str, dict[str, int]] = {}
        # PostgreSQL's binary COPY takes dates, datetimes and UUIDs; SQLite's text columns take
        # strings exactly as Django writes them (str() of naive UTC: no fraction when zero), so that
        # its lookups compare like with like.
        postgres = self.postgres
        # Records come in time order, nearly: what follows from their quarter of an hour (its clock, its
        # day's tallies) is looked up when it changes, and its views counted in `views` until then.
        current: int | None = None
        views = 0
        for time_ms, duration, method, status, size, ip, host, path, referrer, agent, subject, request_id in records:
            ms = int(time_ms)
            quarter = ms // 900_000
            if quarter != current:
                if views and current is not None:
                    by_quarter[current] = by_quarter.get(current, 0) + views
                    views = 0
                clock = quarters.get(quarter)
                if clock is None:
                    clock = self._quarter(quarter)
                day, _local_hour, utc_hour, first_second, date = clock
                stored_day = date if postgres else day
                first_ms = quarter * 900_000 - first_second * 1000
                addresses = by_address.setdefault(day, {})
                referrers = by_referrer.setdefault(day, {})
                current = quarter
            if postgres:
                stamp: object = datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC)
                account: object = uuid.UUID(subject) if subject else None
            else:
                stamp = f"{utc_hour}{_CLOCK_FACES[(ms - first_ms) // 1000]}{_FRACTIONS[ms % 1000]}"
                account = subject.replace("-", "") if subject else None
            key = (day, ip, agent)
            client = clients[key]
            code = int(status)
            yield (
                stored_day,
                stamp,
                method[:10],
                path[:2000],
                code,
                int(size or 0),
                int(duration or 0),
                host[:255],
                referrer[:2000],
                account,
                request_id[:32],
                client[0],
            )
            if code < 400 and method in _COUNTED_METHODS and client[3][3] != "bot":
                seen = by_client.get(key)
                if seen is None:
                    by_client[key] = [1, client]
                else:
                    seen[0] += 1
                views += 1
                addresses[path] = addresses.get(path, 0) + 1
                if referrer:
                    referrers[referrer] = referrers.get(referrer, 0) + 1
        if views and current is not None:
            by_quarter[current] = by_quarter.get(current, 0) + views
        counts, totals, visitors, counted = rollup.counts, rollup.totals, rollup.visitors, self._counted
        for (day, _ip, _agent), (views, (_id, visitor, network, browser)) in by_client.items():
            family, _version, os_family, device = browser
            counts[day, Dimension.BROWSER, family] += views
            counts[day, Dimension.OS, os_family] += views
            counts[day, Dimension.DEVICE, device] += views
            if network:
                counts[day, Dimension.NETWORK, network] += views
            if visitor and (day, visitor) not in counted:
                visitors.add((day, visitor))
        for quarter, views in by_quarter.items():
            day, local_hour, _utc_hour, _first_second, _date = quarters.get(quarter) or self._quarter(quarter)
            totals[day] += views
            counts[day, Dimension.HOUR, local_hour] += views
        for day, of_day in by_address.items():
            for path, views in of_day.items():
                counts[day, Dimension.PAGE, path.partition("?")[0][:500]] += views
        for day, of_day in by_referrer.items():
            for referrer, views in of_day.items():
                site = referring_site(referrer)
                if site:
                    counts[day, Dimension.REFERRER, site] += views

    def _quarter(self, quarter: int) -> tuple[str, str, str, int, datetime.date]:
        """(local day, local hour, UTC "YYYY-MM-DD HH:", the second of the UTC hour it starts at, the local
        day as a date) of one quarter of an hour since the epoch: every time zone's offset is a whole
        number of quarters."""
        if len(self._quarters) > _REMEMBERED:
            self._quarters.clear()
        second = quarter * 900
        local = datetime.datetime.fromtimestamp(second, self.zone)
        utc = time.gmtime(second)
        clock = (
            local.date().isoformat(),
            f"{local.hour:02d}",
            time.strftime("%Y-%m-%d %H:", utc),
            utc.tm_min * 60,
            local.date(),
        )
        self._quarters[quarter] = clock
        return clock

    def _ensure_partitions(self, days: set[str]) -> None:
        """Makes the partitions of the batch's days (found by `_new_clients`) before its clients and its
        COPY are written (DDL cannot run inside a COPY)."""
        days = days - self._known_days
        if days:
            partitions.ensure_days(sorted(days))
            self._known_days |= days

    def _insert_rows(self, cursor: object, rows: Iterable[tuple]) -> None:
        table = AccessRecord._meta.db_table
        raw = cursor.cursor  # type: ignore[attr-defined]
        # The driver's own cursor raises the driver's errors: wrapped as Django's, a database that
        # went away mid-batch is a DatabaseError, which the following ingester survives.
        with cursor.db.wrap_database_errors:  # type: ignore[attr-defined]
            if self.postgres:
                copy_rows(raw, rows)
                return
            # A list (`store` makes the rows first): the faster argument, measured ~8% faster than the generator.
            marks = ", ".join(["%s"] * len(COLUMNS))
            raw.executemany(f"INSERT INTO {table} ({', '.join(COLUMNS)}) VALUES ({marks})", rows)  # noqa: S608  (table names from model meta)  # nosec B608

    def _add_rollup(self, cursor: object, rollup: Rollup) -> None:
        """Adds the batch's roll-up: a handful of statements whatever the batch's size."""
        counts, totals, visitors = (model._meta.db_table for model in (DailyCount, DailyTotal, DayVisitor))
        count_values, total_values, visitor_values = _ROLLUP_VALUES[self.postgres]
        add_counts = (
            f"INSERT INTO {counts} (day, dimension, key, views) {count_values} "  # nosec B608  (table names from model meta)
            f"ON CONFLICT (day, dimension, key) DO UPDATE SET views = {counts}.views + excluded.views"
        )
        add_totals = (
            f"INSERT INTO {totals} (day, views, visitors) {total_values} "  # nosec B608  (table names from model meta)
            f"ON CONFLICT (day) DO UPDATE SET views = {totals}.views + excluded.views"
        )
        add_visitors = (
            f"INSERT INTO {visitors} (day, visitor) {visitor_values} "  # nosec B608  (table names from model meta)
            "ON CONFLICT (day, visitor) DO NOTHING"
        )
        count_new_visitors = f"UPDATE {totals} SET visitors = visitors + %s WHERE day = %s"  # noqa: S608  (table names from model meta)  # nosec B608
        # Everything in one order (sorted) in every ingester: two of them adding to the same rows at
        # once take their locks in the same order, so one waits for the other and neither deadlocks.
        counted, totalled, by_day = rollup.in_order()
        execute = cursor.execute  # type: ignore[attr-defined]
        executemany = cursor.executemany  # type: ignore[attr-defined]
        if self.postgres:
            execute(
                add_counts,
                [
                    _array([day for (day, _dimension, _key), _views in counted], quoted=False),
                    _array([dimension for (_day, dimension, _key), _views in counted], quoted=False),
                    _array([key for (_day, _dimension, key), _views in counted]),
                    _array([str(views) for _key, views in counted], quoted=False),
                ],
            )
            execute(
                add_totals,
                [
                    _array([day for day, _views in totalled], quoted=False),
                    _array([str(views) for _day, views in totalled], quoted=False),
                ],
            )
        else:
            executemany(add_counts, rollup.count_rows())
            executemany(add_totals, totalled)
        for day, keys_of_day in by_day.items():
            if self.postgres:
                execute(add_visitors, [day, _array(keys_of_day, quoted=False)])
            else:
                executemany(add_visitors, [(day, key) for key in keys_of_day])
            # Only the keys not yet counted that day (the rows just inserted) add to its visitors.
            execute(count_new_visitors, [cursor.rowcount, day])  # type: ignore[attr-defined]


@dataclass
class IngestReport:
    records: int = 0
    files: int = 0
    deleted: int = 0
    broken: list[str] = field(default_factory=list)


def ingest_spool(*, directory: Path | None = None, batch_size: int = BATCH_SIZE, workers: int = 1) -> IngestReport:
    """Ingests every spool file (leftovers of dead workers included); deletes sealed, finished files.

    Each file is claimed with a lock of its own while it is read, so ingesters never read the same
    file at once: a second one (a second `raksa accesslog ingest --follow`, a manual run beside the
    service) passes over the files the first holds and reads the cursors it committed for the others,
    so no batch is read from the same place twice. `workers` processes share the files that way.
    """
    directory = directory or Path(settings.RAKSA_ACCESSLOG_SPOOL_DIR)
    if not directory.is_dir():
        return IngestReport()  # nothing spooled yet (the first write creates the directory)
    if workers > 1 and can_fork():
        return _ingest_in_processes(directory, batch_size, workers)
    with collector_paused():
        return _ingest_directory(directory, batch_size)


def can_fork() -> bool:
    """Whether forked ingesters would share this process's databases: not one held in its memory
    (SQLite's test databases)."""
    return not any(
        each.vendor == "sqlite" and each.is_in_memory_db()  # type: ignore[attr-defined]
        for each in connections.all(initialized_only=False)
    )


def _ingest_in_processes(directory: Path, batch_size: int, workers: int) -> IngestReport:
    """`workers` forked processes, each an ingester over the files it claims first.

    One process makes rows at about the rate its database stores them, so a second one on another
    core turns the files into rows while the first's are stored. Each opens its own connections
    (a forked copy of a connection is not one): the parent's are closed first.
    """
    connections.close_all()
    warm_up_before_forking()
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        reports = list(pool.map(_ingest_in_process, repeat(directory, workers), repeat(batch_size, workers)))
    total = IngestReport()
    for report in reports:
        total.records += report.records
        total.files += report.files
        total.deleted += report.deleted
        total.broken += report.broken
    return total


def _ingest_in_process(directory: Path, batch_size: int) -> IngestReport:
    try:
        with collector_paused():
            return _ingest_directory(directory, batch_size)
    finally:
        connections.close_all()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused for a run of the ingester or the importer.

    A run makes millions of short-lived tuples, lists and strings; each of the collector's passes
    walks every live container (the batch, the Loader's caches), which measured 45% of the CPU of
    reading spool lines and 30% of making rows (3.0 -> 1.7 and 3.4 -> 2.4 us a record). What a run
    makes holds no reference cycles, so nothing waits for the collector meanwhile; the few the ORM
    makes per batch are collected once it runs again.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@contextmanager
def _claimed(path: Path) -> Iterator[BinaryIO | None]:
    """The spool file open and under this ingester's exclusive flock; None when another ingester
    holds it (or it is gone). The writer never locks, so capture never waits on it; the lock is the
    kernel's, so a killed ingester never leaves a file held."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        yield None
        return
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield None
            return
        yield handle  # closing it lets the lock go


def _ingest_directory(directory: Path, batch_size: int) -> IngestReport:
    report = IngestReport()
    loader = Loader()
    for path in spool.spool_files(directory):
        with _claimed(path) as handle:
            if handle is None:
                continue
            sealed = spool.is_sealed(path)
            finished = _ingest_file(loader, path, handle, sealed=sealed, batch_size=batch_size, report=report)
            report.files += 1
            if sealed and finished:
                # The cursor stays (until the retention purge): a file restored by mistake adds nothing.
                path.unlink(missing_ok=True)
                report.deleted += 1
    if loader.salt_missing:
        log.warning("access log: %d records arrived after their day's visitor salt was destroyed", loader.salt_missing)
    return report


def _ingest_file(
    loader: Loader, path: Path, handle: BinaryIO, *, sealed: bool, batch_size: int, report: IngestReport
) -> bool:
    """Ingests what is complete in one claimed file; True when nothing is left to read in it."""
    source = path.stem
    # Read once the file is claimed: what an ingester that held it before committed.
    cursor = SpoolCursor.objects.filter(source=source).first()
    offset = start = cursor.offset if cursor else 0
    last_sequence = cursor.last_sequence if cursor else 0
    batch: list[list[str]] = []
    handle.seek(offset)
    tail = b""
    while True:
        chunk = handle.read(_READ_CHUNK)
        if not chunk:
            break
        data = tail + chunk
        end = data.rfind(b"\n") + 1
        tail = data[end:]
        # Decoded a chunk at a time, not a line at a time (0.5 µs a record less). A line's size in the
        # file is its length when the chunk is ASCII, as it nearly always is; otherwise that of its bytes.
        text = data[:end].decode("utf-8", "replace")
        if text.isascii():
            lines = text.split("\n")
            lines.pop()  # what follows the chunk's last newline: nothing
            sizes = map(len, lines)
        else:
            raws = data[:end].split(b"\n")
            raws.pop()
            lines = [raw.decode("utf-8", "replace") for raw in raws]
            sizes = map(len, raws)
        if "\x00" in text:
            # PostgreSQL's text cannot hold NUL: a request for /%00 would stop the file, and every file after
            # it, for good. One character for one (a NUL is one byte), so the sizes above stay right.
            lines = [line.replace("\x00", "\ufffd") for line in lines]
        for line, size in zip(lines, sizes, strict=True):
            offset += size + 1
            fields = line.split("\t")
            if len(fields) != 13 or not _digits(fields[0]):
                report.broken.append(f"{path.name} at byte {offset - size - 1}")
                log.error("access log: a broken spool line in %s at byte %d", path.name, offset - size - 1)
                continue
            sequence = int(fields[0])
            if sequence <= last_sequence:
                continue
            last_sequence = sequence
            # Escapes are rare (a tab or backslash in an address or browser string): most lines need no unescaping.
            batch.append([spool.unescape(value) for value in fields[1:]] if "\\" in line else fields[1:])
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
    try:
        report.records += loader.store(batch, source=source, last_sequence=last_sequence, offset=offset)
    except (DataError, ValueError, OverflowError, OSError):
        # Only a file damaged on disk holds a record the database cannot take (the middleware writes none):
        # it would stop its file, and every file after it, at every round. Checked only after a failure,
        # so a sound batch pays nothing; a failure no damaged record explains is raised as it was.
        storable = [record for record in batch if _storable(record)]
        damaged = len(batch) - len(storable)
        if not damaged:
            raise
        report.broken += [f"{source}: a damaged record at or before sequence {last_sequence}"] * damaged
        log.error("access log: %d damaged records in %s up to sequence %d, passed over", damaged, source, last_sequence)
        report.records += loader.store(storable, source=source, last_sequence=last_sequence, offset=offset)


# The last millisecond a record may carry: a day before datetime's end, so that its local day exists in
# every time zone.
_LAST_MS = int(datetime.datetime(9999, 12, 30, tzinfo=datetime.UTC).timestamp() * 1000)
_BIGINT = 2**63 - 1
_SMALLINT = 2**15 - 1


def _digits(text: str) -> bool:
    """Whether `int` reads this as a number written in ASCII digits ("²".isdigit() is true too)."""
    return text.isascii() and text.isdigit()


def _storable(record: Record) -> bool:
    """Whether a spool record's numbers, time and account fit their columns."""
    time_ms, duration, _method, status, size, *_middle, subject, _request_id = record
    if not (_digits(str(time_ms)) and int(time_ms) <= _LAST_MS):
        return False
    if not (_digits(status) and int(status) <= _SMALLINT):
        return False
    if not all(number == "" or (_digits(number) and int(number) <= _BIGINT) for number in (str(duration), size)):
        return False
    if subject:
        try:
            uuid.UUID(subject)
        except ValueError:
            return False
    return True
