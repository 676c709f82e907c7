"""Access-log figures (issue 6): capture overhead, ingest speed, dashboard cost, import against GoAccess.

Each figure is compared with its baseline in the same run. Capture and import run on scratch
databases (a SQLite file, or PostgreSQL test databases when DATABASE_URL points there) that are
dropped afterwards; the ingest runs on both databases, each in a child process over scratch
databases of its own; the dashboard reads the bench data set (bench/dataset.py): 10,000,000 records
over 90 days against the 100,000 of the set 100 times smaller (`--small`: 100,000 against 1,000).
With `--small`, the smoke run, capture, ingest and import take small inputs.
"""

import datetime
import io
import os
import random
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection, transaction
from django.db.backends.base.creation import TEST_DATABASE_PREFIX
from django.db.models import Max
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import override_settings, setup_databases, teardown_databases

from bench import dataset
from bench import scratch as templates
from bench.harness import Figure, measure, run_child
from raksa.accesslog import spool, stats
from raksa.accesslog.actions import local_today
from raksa.accesslog.importer import WORKERS as IMPORT_WORKERS
from raksa.accesslog.importer import import_logs
from raksa.accesslog.ingest import CLIENT_COLUMNS, CLIENT_TYPES, COLUMNS, COPY_TYPES, Loader, copy_rows, ingest_spool
from raksa.accesslog.middleware import AccessLogMiddleware
from raksa.accesslog.models import AccessRecord, DayClient

AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/1{0}.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_{0} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.0 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-S91{0}B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
    "Mobile Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_{0}) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:12{0}.0) Gecko/20100101 Firefox/12{0}.0",
]
DAYS = 90
# What `raksa bench accesslog:PART` runs alone (the whole benchmark runs them all, in this order).
PARTS = ("capture", "ingest", "dashboard", "import")


def run(*, small: bool, parts: set[str] | frozenset[str] = frozenset(PARTS)) -> list[Figure]:
    # --small is CI's smoke run (its timings are not judged): inputs just large enough to run every path.
    figures: list[Figure] = []
    if "capture" in parts:
        figures += capture_figures(requests=200 if small else 5_000)
    if "ingest" in parts:
        figures += ingest_figures(small=small)
    if "dashboard" in parts:
        figures += dashboard_figures(small=small)
    if "import" in parts:
        figures += import_figures(lines=10_000 if small else 1_000_000)
    return figures


@contextmanager
def scratch_databases() -> Iterator[None]:
    directory = Path(tempfile.mkdtemp(prefix="raksa-bench-"))
    # Copies of the migrated templates (bench/scratch.py): migrate then has nothing to do.
    for alias, database in settings.DATABASES.items():
        if database["ENGINE"].endswith("sqlite3"):
            path = templates.sqlite(directory / f"{alias}.sqlite3", keystore=alias == "keystore")
            database["TEST"]["NAME"] = str(path)
        else:
            database["TEST"]["TEMPLATE"] = templates.postgres_template(keystore=alias == "keystore")
            templates.drop_postgres(database["TEST"].get("NAME") or TEST_DATABASE_PREFIX + database["NAME"])
    old = setup_databases(verbosity=0, interactive=False, keepdb=True, aliases={"default": {}, "keystore": {}})
    try:
        yield
    finally:
        teardown_databases(old, verbosity=0)
        shutil.rmtree(directory, ignore_errors=True)


# Capture ------------------------------------------------------------------------------------------
def _ignore_start(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> Callable[[bytes], object]:
    return lambda data: None


def capture_figures(*, requests: int) -> list[Figure]:
    directory = Path(tempfile.mkdtemp(prefix="raksa-bench-spool-"))
    try:
        with override_settings(MIDDLEWARE=settings.MIDDLEWARE[1:]):
            bare = WSGIHandler()
        with override_settings(RAKSA_ACCESSLOG_SPOOL_DIR=directory):
            captured = WSGIHandler()
            environ = {
                "REQUEST_METHOD": "GET",
                "PATH_INFO": "/",
                "QUERY_STRING": "page=2&utm_source=x",
                "SERVER_NAME": "127.0.0.1",
                "SERVER_PORT": "8000",
                "SERVER_PROTOCOL": "HTTP/1.1",
                "REMOTE_ADDR": "203.0.113.7",
                "HTTP_HOST": "127.0.0.1",
                "HTTP_USER_AGENT": AGENTS[0].format(20),
                "HTTP_REFERER": "https://www.google.com/",
                "wsgi.url_scheme": "http",
            }

            def serve(handler: WSGIHandler) -> Callable[[], None]:
                def one() -> None:
                    response = handler({**environ, "wsgi.input": io.BytesIO()}, _ignore_start)
                    b"".join(response)
                    response.close()

                return one

            with_capture, without = serve(captured), serve(bare)
            for warm in (with_capture, without):
                for _ in range(200):
                    warm()
            bare_samples: list[float] = []
            captured_samples: list[float] = []
            bare_cpu: list[float] = []
            captured_cpu: list[float] = []
            # Interleaved rounds: the machine's noise falls on both sides alike.
            for _ in range(15):
                for samples, cpu, fn in (
                    (bare_samples, bare_cpu, without),
                    (captured_samples, captured_cpu, with_capture),
                ):
                    start, cpu_start = time.perf_counter(), time.process_time()
                    for _ in range(requests):
                        fn()
                    samples.append((time.perf_counter() - start) / requests)
                    cpu.append((time.process_time() - cpu_start) / requests)
            step, step_wall = capture_step_seconds(clock=time.process_time), capture_step_seconds()
            spool.writer().close()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    # The fastest round of each: what is left when this shared machine's noise is least.
    bare_time, captured_time = min(bare_samples), min(captured_samples)
    bare_work, captured_work = min(bare_cpu), min(captured_cpu)
    detail = (
        f"trivial view, CPU time per request (the rate on cores of its own): {bare_work * 1e6:.1f} µs without, "
        f"{captured_work * 1e6:.1f} µs with capture; wall clock {bare_time * 1e6:.1f} / {captured_time * 1e6:.1f} µs "
        f"({bare_time / captured_time:.2f}x) at load average {os.getloadavg()[0]:.1f}"
    )
    return [
        Figure(
            "accesslog capture cost per request",
            step * 1e6,
            15,
            "µs",
            "max",
            "the middleware's own work around a ready response, one spool write included, in CPU time "
            f"(user and system: the shared machine's waits left out); on the wall clock {step_wall * 1e6:.1f} µs "
            f"at load average {os.getloadavg()[0]:.1f}",
        ),
        Figure("accesslog throughput with capture", bare_work / captured_work, 0.90, "x without", "min", detail),
    ]


def capture_step_seconds(*, clock: Callable[[], float] = time.perf_counter) -> float:
    factory = RequestFactory()
    request = factory.get(
        "/th/news/",
        {"page": "2", "utm_source": "x"},
        HTTP_USER_AGENT=AGENTS[0].format(20),
        HTTP_REFERER="https://www.google.com/",
        REMOTE_ADDR="203.0.113.7",
    )
    response = HttpResponse(b"x" * 4096)
    middleware = AccessLogMiddleware(lambda request: response)
    return min(measure(lambda: middleware(request), repeat=15, number=2_000, clock=clock).samples)


# Ingest and dashboard -----------------------------------------------------------------------------
# Requests a visitor makes in a day, on average, as in the data set's days (bench/dataset.py): a visit
# is several pages and API calls. 1 makes every record a new visitor (IP and browser) of its day, the
# worst case for the ingester, which seals and hashes once per visitor and day.
REQUESTS_PER_VISITOR = 20


def visitors(count: int, rng: random.Random) -> list[tuple[str, str]]:
    """`count` visitors: an address and a browser string each."""
    return [
        (
            f"203.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
            AGENTS[rng.randrange(len(AGENTS))].format(rng.randrange(10)),
        )
        for _ in range(count)
    ]


def spool_lines(
    count: int, *, start: datetime.datetime, days: int, rng: random.Random, per_visitor: int = REQUESTS_PER_VISITOR
) -> Iterator[str]:
    span_ms = days * 86_400_000
    base = int(start.timestamp() * 1000)
    step = span_ms / count
    per_day = max(1, count // days // per_visitor)
    today, pool = -1, []
    for i in range(count):
        if per_visitor == 1:
            [(ip, agent)] = visitors(1, rng)
        else:
            if int(i * step) // 86_400_000 != today:  # each day its own visitors
                today, pool = int(i * step) // 86_400_000, visitors(per_day, rng)
            ip, agent = pool[rng.randrange(per_day)]
        path = f"/th/page/{int(rng.paretovariate(1.2)) % 500}/"
        referrer = "https://www.google.com/" if rng.random() < 0.3 else ""
        yield (
            f"{int(base + i * step)}\t{rng.randrange(300, 5000)}\tGET\t200\t{rng.randrange(500, 90_000)}\t{ip}\t"
            f"raksa.example\t{path}\t{referrer}\t{agent}\t\t"
        )


# The ingester's processes in the detail (`raksa accesslog ingest --workers`): one per core here. They
# share the spool's files, SPOOL_FILES of them in time order: a writer rotates its file every hour or
# ROTATE_BYTES, which made 1,000,000 records 3 files, and 2 ingesters then ingested the last one alone.
INGEST_WORKERS = 2
SPOOL_FILES = 4


def write_spool(directory: Path, lines: Iterator[str], *, count: int) -> None:
    """`count` lines in SPOOL_FILES files, in order."""
    writer = spool.SpoolWriter(directory)
    per_file = -(-count // SPOOL_FILES)
    for number, line in enumerate(lines):
        if number and not number % per_file:
            writer.close()  # sealed: the next line opens the next file
        writer.write(line)
    writer.close()


def timed_dashboard() -> float:
    """The fastest of 15 runs of the 90-day dashboard's statistics, in seconds (a warming run first):
    what is left when this shared machine's noise is least."""
    today = local_today()
    start = today - datetime.timedelta(days=DAYS - 1)
    stats.statistics(start, today)
    samples = []
    for _ in range(15):
        began = time.perf_counter()
        stats.statistics(start, today)
        samples.append(time.perf_counter() - began)
    return min(samples)


def bare_insert_seconds(clients: list[tuple], rows: list[tuple]) -> float:
    """A bare COPY (PostgreSQL) or executemany (SQLite) of the same final rows in one transaction,
    committed: a load is done when it is committed, as the ingest's batches are (on SQLite the
    commit writes the pages to the write-ahead log and checkpoints it, a good part of a load). The
    same final rows are the records' and their clients' (one per IP and browser string a day): the
    ingester stores both, the clients only with a conflict check this bare insert does not have."""
    began = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for table, columns, types, made in (
            (DayClient._meta.db_table, CLIENT_COLUMNS, CLIENT_TYPES, clients),
            (AccessRecord._meta.db_table, COLUMNS, COPY_TYPES, rows),
        ):
            if connection.vendor == "postgresql":
                # The ingester's own COPY (binary).
                copy_rows(cursor.cursor, made, table=table, columns=columns, types=types)
            else:
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", made)
    return time.perf_counter() - began


def ingest_figures(*, small: bool) -> list[Figure]:
    """The ingest on each database (the issue's goal is on both, whichever one a run's site uses), each in
    a child process of its own over scratch databases copied from the migrated templates."""
    records = 10_000 if small else 1_000_000
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="raksa-bench-ingest-") as directory:
        scratch = Path(directory)
        main = templates.sqlite(scratch / "main.sqlite3")
        keystore = templates.sqlite(scratch / "keys.sqlite3", keystore=True)
        environment = templates.environment(f"sqlite:///{main}", f"sqlite:///{keystore}", scratch)
        figures += _ingest_figures("SQLite", run_child("bench.accesslog:measure_ingest", [str(records)], environment))
        name = f"raksa_bench_ingest_{os.getpid()}"
        try:
            templates.postgres_site(name)  # both or neither (the main one was left when the key store failed)
        except psycopg.Error as error:
            print(f"bench accesslog: PostgreSQL at {templates.PG_SERVER} unavailable, its ingest NOT measured: {error}")
            return figures
        try:
            environment = templates.environment(
                f"{templates.PG_SERVER}/{name}", f"{templates.PG_SERVER}/{name}_keys", scratch
            )
            found = run_child("bench.accesslog:measure_ingest", [str(records)], environment)
            figures += _ingest_figures("PostgreSQL", found)
        finally:
            templates.drop_postgres(name)
            templates.drop_postgres(f"{name}_keys")
    return figures


def measure_ingest(records: str) -> dict[str, float]:
    """The child's part (bench/child.py), on the databases its environment names: ingest rates in one
    process and in INGEST_WORKERS, the worst case, and the bare insert of the same rows, with the load
    average after each."""
    count = int(records)
    rng = random.Random(6)
    start = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=DAYS - 1)
    found: dict[str, float] = {"records": count}
    found["one"], found["one_load"] = timed_ingest(count, start=start, rng=rng), os.getloadavg()[0]
    # The worst case, every record a new visitor of its day, on a fifth as many records (the detail).
    found["worst"] = timed_ingest(count // 5, start=start, rng=rng, per_visitor=1)
    sample = list(spool_lines(min(count, 200_000), start=start, days=DAYS, rng=rng))
    # Numbered as the table would number them next: the records' client index then grows where it would.
    first = (DayClient.objects.aggregate(last=Max("id"))["last"] or 0) + 1
    clients, rows = Loader().rows([line.split("\t") for line in sample], first_client=first)
    found["bare"], found["bare_load"] = len(rows) / bare_insert_seconds(clients, rows), os.getloadavg()[0]
    # Last, so that the bare insert above meets the table the one process's ingest did.
    found["workers"] = timed_ingest(count, start=start, rng=rng, workers=INGEST_WORKERS)
    found["workers_load"] = os.getloadavg()[0]
    return found


def _ingest_figures(database: str, found: dict[str, float]) -> list[Figure]:
    # The ingester as deployed on both databases (docs/accesslog.md), one process's rate in the detail.
    # PostgreSQL stores the rows in its server's process, so a second ingester keeps the second core
    # busy (quiet machine: 106,398 and 107,646 against one's 70,669 and 94,910/s); on SQLite one makes
    # its rows while the other holds the single writer's lock (quiet: 92,592 against one's 71,947/s).
    postgres = database == "PostgreSQL"
    rate, workers_rate, bare_rate = found["one"], found["workers"], found["bare"]
    figure_rate, figure_load = workers_rate, found["workers_load"]
    how = f"{INGEST_WORKERS} ingester processes (one: {rate:,.0f}/s at load average {found['one_load']:.1f})"
    worst_case = (
        f"every record a new visitor of its day, one process: {found['worst']:,.0f}/s "
        f"({found['worst'] / bare_rate:.2f}x bare, {found['records'] // 5:,.0f} records)"
    )
    return [
        Figure(
            f"accesslog ingest rate, {database}",
            figure_rate,
            100_000,
            "records/s",
            "min",
            f"{found['records']:,.0f} records over {DAYS} days, spool to tables, {REQUESTS_PER_VISITOR} a visitor "
            f"and day, {how}; {worst_case}; load average {figure_load:.1f}",
        ),
        Figure(
            f"accesslog ingest vs bare insert, {database}",
            figure_rate / bare_rate,
            0.40,
            "x bare",
            "min",
            f"bare {'COPY' if postgres else 'executemany'} of the same rows in one transaction: {bare_rate:,.0f}/s "
            f"at load average {found['bare_load']:.1f}",
        ),
    ]


def timed_ingest(
    records: int,
    *,
    start: datetime.datetime,
    rng: random.Random,
    per_visitor: int = REQUESTS_PER_VISITOR,
    workers: int = 1,
) -> float:
    """Records a second of one ingest of a fresh spool into the scratch database."""
    directory = Path(tempfile.mkdtemp(prefix="raksa-bench-ingest-"))
    try:
        lines = spool_lines(records, start=start, days=DAYS, rng=rng, per_visitor=per_visitor)
        write_spool(directory, lines, count=records)
        began = time.perf_counter()
        ingested = ingest_spool(directory=directory, workers=workers).records
        return ingested / (time.perf_counter() - began)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def dashboard_figures(*, small: bool) -> list[Figure]:
    """The dashboard over the bench data set's 90 days, and over the set 100 times smaller."""
    scale = "small" if small else "full"
    seconds: dict[str, list[float]] = {scale: [], dataset.baseline_of(scale): []}
    # Rounds alternate between the two sets, so a burst of the machine's load falls on both alike; the
    # smoke run (its timings not judged) takes one.
    for _round in range(1 if small else 3):
        for measured in seconds:
            data = dataset.ensure(measured)
            with tempfile.TemporaryDirectory(prefix="raksa-bench-dashboard-") as scratch:
                seconds[measured].append(run_child("bench.accesslog:timed_dashboard", [], data.environment(scratch)))
    many, few = (dataset.counts(name)["access_records"] for name in (scale, dataset.baseline_of(scale)))
    many_time, few_time = min(seconds[scale]), min(seconds[dataset.baseline_of(scale)])
    return [
        Figure(
            f"accesslog dashboard, {DAYS} days over {many:,} records",
            many_time * 1000,
            100,
            "ms",
            "max",
            "read from weekly and daily roll-ups, PostgreSQL; the fastest of 15 runs, in rounds alternating with the "
            f"smaller set ({len(seconds[scale])})",
        ),
        Figure(
            "accesslog dashboard cost growth",
            many_time / few_time,
            1.5,
            f"x its time over {few:,}",
            "max",
            f"{few_time * 1000:.1f} ms over {few:,} records",
        ),
    ]


# Import -------------------------------------------------------------------------------------------
def combined_log(path: Path, lines: int) -> None:
    """`lines` requests, 20 a second, from lines / REQUESTS_PER_VISITOR visitors, from two days ago (the
    import refuses lines older than the raw records' retention)."""
    rng = random.Random(7)
    moment = datetime.datetime.now(datetime.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    moment -= datetime.timedelta(days=2)
    pool = visitors(max(1, lines // REQUESTS_PER_VISITOR), rng)
    with path.open("w") as out:
        for i in range(lines):
            when = moment + datetime.timedelta(seconds=i // 20)
            ip, agent = pool[rng.randrange(len(pool))]
            out.write(
                f"{ip} - - [{when:%d/%b/%Y:%H:%M:%S +0000}] "
                f'"GET /th/page/{rng.randrange(500)}/?page={rng.randrange(5)} HTTP/1.1" '
                f'200 {rng.randrange(500, 90_000)} "https://www.google.com/" "{agent}"\n'
            )


def import_figures(*, lines: int) -> list[Figure]:
    directory = Path(tempfile.mkdtemp(prefix="raksa-bench-import-"))
    try:
        log = directory / "access.log"
        combined_log(log, lines)
        # The importer's default processes (`raksa accesslog import --workers`): two on SQLite, one on
        # PostgreSQL; the other count's rate in the detail, each into fresh scratch databases.
        default = 1 if connection.vendor == "postgresql" else IMPORT_WORKERS
        other = IMPORT_WORKERS if default == 1 else 1
        rates = {}
        for workers in (default, other):
            with scratch_databases():
                began = time.perf_counter()
                report = import_logs([log], host="raksa.example", workers=workers)
                rates[workers] = report.imported / (time.perf_counter() - began)
        ours = rates[default]
        processes = f"{default} process{'es' if default > 1 else ''}; {other}: {rates[other]:,.0f} lines/s"
        goaccess = shutil.which("goaccess")
        if goaccess is None:
            return [
                Figure(
                    "accesslog import rate", ours, 1_000, "lines/s", "min", "goaccess absent: apt-get install goaccess"
                )
            ]
        began = time.perf_counter()
        subprocess.run(
            [goaccess, str(log), "--log-format=COMBINED", "--no-progress", "-o", str(directory / "report.json")],
            check=True,
            capture_output=True,
        )
        theirs = lines / (time.perf_counter() - began)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return [
        Figure(
            "accesslog import vs GoAccess",
            ours / theirs,
            1.0,
            "x GoAccess",
            "min",
            f"{ours:,.0f} lines/s imported into the database ({processes}); GoAccess {theirs:,.0f} lines/s; "
            f"load average {os.getloadavg()[0]:.1f}",
        )
    ]
