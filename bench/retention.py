"""Purging expired registrations with the retention engine, while the public site keeps answering.

Goal (issue 14): 1,000,000 expired registrations (2,000 with --small, the smoke run) are ended at
50,000 or more a second, while a public page's p95 stays under 200 ms during the run. PostgreSQL
runs the full count; SQLite a tenth of it (its single writer made the full million the run's long
pole, and the rate is what is compared — the table says the count).

Each database runs in a child process against scratch databases made for it (main and key store
apart, as in production; the run writes audit entries, which can never be deleted). The rows are
bulk-loaded once (COPY on PostgreSQL, executemany on SQLite), each with two sealed-looking values, a
blind index and, per person, a live data key, so the engine does all its work: it empties the
values, deletes the indexes and notes, and destroys the keys. The cases closed one after another
over CLOSING_DAYS, in the order the rows are written (a row sits where its case's closing put it).
Every statement's time is added to its step (the Raksa function that sent it), and the figure names
the steps that took most of the run (the key store's steps run in a thread beside the main
database's, so the shares may add up to more than the whole). The baseline, measured in the same
run on the same rows once the engine is done, is one bare `DELETE FROM services_registration WHERE
service_id = …`. A second process asks for the public services list without pause, idle first and
then during the run; its p95s are reported, with the longest batch transaction (the longest any
row lock was held).
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from contextlib import ExitStack
from pathlib import Path
from types import FrameType

import psycopg

from bench import scratch as templates
from bench.harness import Figure

PG_SERVER = os.environ.get("RAKSA_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
ROOT = Path(__file__).resolve().parent.parent
RATE_GOAL = 50_000.0
P95_GOAL_MS = 200.0
PAGE = "/th/services/"
# Registrations per person: people come back for several services.
PER_PERSON = 4
# The registrations' cases closed over this many days, in the order they sit in the table: rows are
# written where a case's last change (its closing) put them, as in a database that has lived a while.
CLOSING_DAYS = 300


# What `raksa bench retention:PART` runs alone (the whole benchmark runs both, in this order).
PARTS = ("sqlite", "postgresql")


def run(*, small: bool, parts: set[str] | frozenset[str] = frozenset(PARTS)) -> list[Figure]:
    # --small is CI's smoke run (its timings are not judged): enough rows to run every path.
    rows = 2_000 if small else 1_000_000
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="raksa-bench-retention-") as directory:
        scratch = Path(directory)
        if "sqlite" in parts:
            main = templates.sqlite(scratch / "main.sqlite3")
            keystore = templates.sqlite(scratch / "keys.sqlite3", keystore=True)
            figures += _figures(
                "SQLite", _child(f"sqlite:///{main}", f"sqlite:///{keystore}", scratch, rows if small else rows // 10)
            )
        if "postgresql" not in parts:
            return figures
        name = f"raksa_bench_retention_{os.getpid()}"
        try:
            templates.postgres_site(name)  # both or neither (the main one was left when the key store failed)
        except psycopg.Error as error:
            print(f"bench retention: PostgreSQL at {PG_SERVER} unavailable, its figures NOT measured: {error}")
            return figures
        try:
            figures += _figures("PostgreSQL", _child(f"{PG_SERVER}/{name}", f"{PG_SERVER}/{name}_keys", scratch, rows))
        finally:
            with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as server:
                server.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                server.execute(f"DROP DATABASE IF EXISTS {name}_keys WITH (FORCE)")
    return figures


def _environment(url: str, keystore: str, scratch: Path) -> dict[str, str]:
    # Every probe renders the page: no cache hides the database.
    return {**templates.environment(url, keystore, scratch), "RAKSA_PUBLIC_PAGE_SECONDS": "0"}


def _child(url: str, keystore: str, scratch: Path, rows: int) -> dict:
    arguments = [sys.executable, "-m", "bench.retention", "child", str(rows), str(scratch)]
    done = subprocess.run(
        arguments, env=_environment(url, keystore, scratch), cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise RuntimeError(f"bench retention child failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _figures(database: str, found: dict) -> list[Figure]:
    rows = found["rows"]
    baseline_rate = rows / found["bare_delete_s"]
    return [
        Figure(
            f"retention purge of {rows:,} expired registrations, {database}",
            rows / found["engine_s"],
            RATE_GOAL,
            "rows/s",
            direction="min",
            detail=f"{found['engine_s']:.1f} s, {found['keys_destroyed']:,} keys destroyed, "
            f"{found['batches']} batches; "
            f"longest batch transaction {found['longest_batch_s'] * 1000:.0f} ms; baseline: one bare DELETE "
            f"{baseline_rate:,.0f} rows/s (engine at {found['bare_delete_s'] / found['engine_s']:.2f} times its "
            "speed); "
            f"time by step: {_shares(found['steps'], found['engine_s'])}",
        ),
        Figure(
            f"public page p95 during the purge, {database}",
            found["p95_during_ms"],
            P95_GOAL_MS,
            "ms",
            detail=f"{found['samples_during']} requests to {PAGE} during the run; idle p95 "
            f"{found['p95_idle_ms']:.1f} ms over {found['samples_idle']}",
        ),
    ]


def _shares(steps: dict[str, float], total: float, shown: int = 6) -> str:
    """The steps that took most of the run, as shares of it. The key store's steps run beside the main
    database's (raksa.retention.actions), so the shares may add up to more than the whole."""
    return ", ".join(f"{step} {seconds / total:.0%}" for step, seconds in list(steps.items())[:shown])


# The child process ---------------------------------------------------------------------------------
def _main(rows: int, scratch: Path) -> None:
    import django

    django.setup()
    import datetime

    from django.core.management import call_command
    from django.db import connections
    from django.db.backends.signals import connection_created
    from django.utils import timezone

    from raksa.retention.actions import run_retention
    from raksa.services.models import Registration

    call_command("migrate", verbosity=0)
    call_command("migrate", database="keystore", verbosity=0)
    service, notice = _service()
    # Cases closed one after another over CLOSING_DAYS, the last of them long enough ago to be due.
    closed = timezone.now() - datetime.timedelta(days=100 + CLOSING_DAYS)

    _load(rows, service, notice, closed)
    probe_log, stop = scratch / f"probe-{os.getpid()}.json", scratch / f"stop-{os.getpid()}"
    probe = subprocess.Popen(
        [sys.executable, "-m", "bench.retention", "probe", str(probe_log), str(stop)], env=os.environ, cwd=ROOT
    )
    ready = probe_log.with_suffix(".ready")
    waited = 0.0
    while not ready.exists() and waited < 120:
        time.sleep(0.2)
        waited += 0.2
    time.sleep(3)  # idle samples first
    run_started = time.time()
    started = time.perf_counter()
    steps: defaultdict[str, float] = defaultdict(float)
    timed = _timed(steps)

    def time_the_key_store_thread(sender, connection, **kwargs) -> None:
        # The engine's key store part runs in a thread of its own, whose connections open during the run.
        if threading.current_thread() is not threading.main_thread():
            connection.execute_wrappers.append(timed)

    connection_created.connect(time_the_key_store_thread)
    with ExitStack() as timing:
        for alias in connections:
            timing.enter_context(connections[alias].execute_wrapper(timed))
        (outcome,) = run_retention(only=["services.registration"])
    connection_created.disconnect(time_the_key_store_thread)
    engine_s = time.perf_counter() - started
    run_ended = time.time()
    stop.touch()
    probe.wait(timeout=60)
    assert outcome.total == rows, (outcome.total, rows)
    assert not Registration.objects.filter(erased_at__isnull=True).exists()
    # The baseline on the same rows, now emptied: one bare DELETE of as many.
    started = time.perf_counter()
    _bare_delete(service.pk)
    bare_delete_s = time.perf_counter() - started
    samples = json.loads(probe_log.read_text())
    idle = [ms for at, ms in samples if at < run_started]
    during = [ms for at, ms in samples if run_started <= at <= run_ended]
    print(
        json.dumps(
            {
                "rows": rows,
                "bare_delete_s": bare_delete_s,
                "engine_s": engine_s,
                "keys_destroyed": outcome.keys_destroyed,
                "batches": outcome.batches,
                "longest_batch_s": outcome.longest_batch,
                "p95_idle_ms": _p95(idle),
                "p95_during_ms": _p95(during),
                "samples_idle": len(idle),
                "samples_during": len(during),
                "steps": dict(sorted(steps.items(), key=lambda step: -step[1])),
            }
        )
    )


def _timed(steps: defaultdict[str, float]):
    """A database wrapper that adds each statement's time to its step (see `_step`), from any thread."""
    adding = threading.Lock()

    def wrapper(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            took = time.perf_counter() - started
            with adding:
                steps[_step(sql)] += took

    return wrapper


def _step(sql: str) -> str:
    """A statement's step: the Raksa function that sent it, its verb and the first table it names."""
    frame: FrameType | None = sys._getframe(2)
    while frame is not None and not frame.f_code.co_filename.startswith(str(ROOT / "raksa")):
        frame = frame.f_back
    sender = f"{Path(frame.f_code.co_filename).stem}.{frame.f_code.co_name}" if frame is not None else "?"
    table = re.search(r'(?:FROM|UPDATE|INTO|JOIN)\s+"?(?!json_each)([a-z]+_[a-z_]+)', sql)
    return f"{sender}: {sql.split(None, 1)[0].upper()} {table.group(1) if table else ''}".strip()


def _p95(samples: list[float]) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _service():
    from raksa.organisations.models import Agency, Controller
    from raksa.services import actions
    from raksa.services.models import Kind
    from raksa.services.tests import builders

    controller = Controller.objects.create(slug="bma", name_th="กรุงเทพมหานคร", name_en="BMA")
    agency = Agency.objects.create(controller=controller, slug="minburi", name_th="สำนักงานเขตมีนบุรี", name_en="Minburi")
    service = actions.create_service(
        agency=agency, slug="certificate", kind=Kind.SERVICE, title_th="หนังสือรับรอง", title_en="Certificate", actor=None
    )
    for category in ("name", "phone"):
        actions.declare_field(
            service=service, category=category, purpose="service_delivery", legal_basis="pdpa_24_4", actor=None
        )
    builders.publish_policy(agency)
    service.retention_days = 30
    service.save(update_fields=["retention_days"])
    return service, actions.current_notice(service)


def _load(rows: int, service, notice, closed) -> None:
    """Bulk-loads `rows` registrations of PER_PERSON each, closed from `closed` on in the order they are
    written, with their people, keys and phone indexes."""
    import datetime

    from django.db import connections

    from raksa.vault.routers import KEYSTORE

    # IDs as 32 hex digits, made in bulk: how SQLite stores a UUID, and what PostgreSQL's COPY reads.
    def hex_ids(count: int) -> list[str]:
        raw = os.urandom(16 * count).hex()
        return [raw[at : at + 32] for at in range(0, 32 * count, 32)]

    people = hex_ids(-(-rows // PER_PERSON))
    registration_ids = hex_ids(rows)
    sealed = os.urandom(60)  # stands for a value sealed by the vault: the engine never opens it
    main, keystore = connections["default"], connections[KEYSTORE]
    controller_id = service.agency.controller_id

    step = datetime.timedelta(days=CLOSING_DAYS) / rows

    def registrations():
        for index, registration_id in enumerate(registration_ids):
            at = closed + step * index
            yield (
                registration_id, people[index // PER_PERSON], controller_id, service.pk, notice.pk, "completed",
                registration_id, "[]", "th", at, at, at, sealed, sealed,
            )  # fmt: skip

    columns = (
        "id, subject_id, controller_id, service_id, notice_id, status, submission_key, explicit_consents, "
        "language, created_at, updated_at, closed_at, name, phone"
    )
    _copy(main, "subjects_subject", "id, created_at", ((person, closed) for person in people))
    _copy(main, "services_registration", columns, registrations())
    _copy(
        keystore,
        "vault_datakey",
        "id, subject_id, controller_id, retention, wrapped, master_key_id, created_at",
        (
            (key, person, controller_id, "service_record", sealed, "bench", closed)
            for key, person in zip(hex_ids(len(people)), people, strict=True)
        ),
    )
    kind, retention, store = "phone", "service_record", "services.registration"
    _copy(
        keystore,
        "vault_blindindex",
        'kind, digest, subject_id, controller_id, retention, store, field, object_id, "unique"',
        (
            (kind, digest, people[index // PER_PERSON], controller_id, retention, store, kind, registration_id, False)
            for index, (registration_id, digest) in enumerate(zip(registration_ids, _digests(rows), strict=True))
        ),
    )  # fmt: skip
    for connection in (main, keystore):
        with connection.cursor() as cursor:
            # As a database that has lived a while: the planner knows the tables' sizes.
            cursor.execute("ANALYZE")


def _digests(count: int) -> list[bytes]:
    """Blind-index digests as the vault stores them: 32 raw bytes each."""
    raw = os.urandom(32 * count)
    return [raw[at : at + 32] for at in range(0, 32 * count, 32)]


def _copy(connection, table: str, columns: str, values) -> None:
    """COPY on PostgreSQL, executemany in chunks on SQLite (UUIDs and times as Django stores them there)."""
    import datetime
    import itertools
    import uuid

    from django.db import transaction

    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
            return
        marks = ", ".join("%s" for _ in columns.split(","))
        statement = f"INSERT INTO {table} ({columns}) VALUES ({marks})"

        def stored(value: object) -> object:
            if isinstance(value, uuid.UUID):
                return value.hex
            if isinstance(value, datetime.datetime):
                return connection.ops.adapt_datetimefield_value(value)
            return value

        rows = (tuple(stored(value) for value in row) for row in values)
        while chunk := list(itertools.islice(rows, 10_000)):
            cursor.executemany(statement, chunk)


def _bare_delete(service_id: int) -> None:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM services_registration WHERE service_id = %s", [service_id])


def _probe(log: Path, stop: Path) -> None:
    """Asks for the public page without pause until told to stop; writes (time, milliseconds) pairs."""
    import django

    django.setup()
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    client = Client()
    samples = []
    assert client.get(PAGE).status_code == 200
    log.with_suffix(".ready").touch()
    while not stop.exists():
        started = time.perf_counter()
        response = client.get(PAGE)
        samples.append((time.time(), (time.perf_counter() - started) * 1000))
        assert response.status_code == 200, response.status_code
    log.write_text(json.dumps(samples))


if __name__ == "__main__":
    if sys.argv[1] == "child":
        _main(int(sys.argv[2]), Path(sys.argv[3]))
    else:
        _probe(Path(sys.argv[2]), Path(sys.argv[3]))
