"""The audit log's figures: verify against a bare SHA-256 loop, insert latency, sequencer speed.

Verify on PostgreSQL reads the bench data set's chain (1,000,000 entries; bench/dataset.py). Every
other measurement runs in a child process against a scratch database made for it (a temporary SQLite
file; a temporary PostgreSQL database on RAKSA_BENCH_PG, default the local server), because audit
entries can never be deleted: the writers' and the sequencer's must not land in a real database.

"Audit insert" is one call of `record()` inside a transaction the caller has already begun (its
BEGIN sent with the caller's own change), until it returns: the INSERT's round trip with its
statement trigger, not the commit. The commit (the WAL flushed to disk, synchronous_commit on) is
timed apart, and "insert and commit" is both. Each writer alternates record() with a bare INSERT of
the same row through the same cursor into the audit table, and into a copy of the table without its
trigger, so the three share the machine's moments (this machine is shared: a p95 is mostly the
scheduler's). A list screen's entries (record_many_committed) are measured against a bare COPY
(executemany on SQLite) of the same rows.
"""

import hashlib
import json
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from bench import dataset
from bench import scratch as templates
from bench.harness import Figure, Timing, measure, run_child

PG_SERVER = os.environ.get("RAKSA_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
ROOT = Path(__file__).resolve().parent.parent
WRITERS = 8
# The rows verify reads: each chain link with its entry.
BARE_QUERY = (
    "SELECT l.sequence, l.prev_hash, l.hash, e.id, e.time, e.actor_id, e.role, e.agency_id, e.subject_id, e.action, "
    "e.object_type, e.object_id, e.fields, e.purpose, e.legal_basis, e.request_id, e.outcome "
    "FROM audit_auditlink l JOIN audit_auditentry e ON e.id = l.entry_id ORDER BY l.sequence"
)


def run(*, small: bool) -> list[Figure]:
    # --small is CI's smoke run (its timings are not judged): enough entries to run every path.
    entries = 2_000 if small else 1_000_000
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="raksa-bench-audit-") as directory:
        scratch = Path(directory)
        main = templates.sqlite(scratch / "audit.sqlite3")
        templates.sqlite(scratch / "keystore.sqlite3", keystore=True)
        figures += _figures("SQLite", _child(f"sqlite:///{main}", scratch, entries, small))
        figures += _verify_figures(dataset.ensure("small" if small else "full"), scratch)
        name = f"raksa_bench_audit_{os.getpid()}"
        try:
            templates.postgres(name)
        except psycopg.Error as error:
            print(f"bench audit: PostgreSQL at {PG_SERVER} unavailable, its figures NOT measured: {error}")
            return figures
        try:
            # The sequencer and the writers on a scratch database: their entries must not stay anywhere.
            figures += _figures("PostgreSQL", _child(f"{PG_SERVER}/{name}", scratch, entries // 5, small))
        finally:
            with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as server:
                server.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    return figures


def _verify_figures(data: dataset.Dataset, scratch: Path) -> list[Figure]:
    """`raksa audit verify` over the bench data set's chain, against the bare loop on the same rows."""
    found = run_child("bench.audit:verify_timings", ["3"], data.environment(scratch))
    return [
        Figure(
            f"audit verify, {found['entries']:,} entries, PostgreSQL",
            found["verify"] / found["bare"],
            2.0,
            "x bare loop",
            detail=f"verify {found['verify']:.2f} s, bare read+SHA-256 loop {found['bare']:.2f} s (bench data set)",
        )
    ]


def verify_timings(repeat: str) -> dict:
    """Median seconds of a full verification and of the bare loop, in this process's database."""
    import io
    import re

    from django.core.management import call_command
    from django.db import connection

    from raksa.audit.chain import chain_pending

    # Entries the benchmarks added since the last run wait for the sequencer: chain them first.
    chain_pending()
    entries = 0

    def verify() -> None:
        nonlocal entries
        out = io.StringIO()
        call_command("audit", "verify", "--max-unchained-seconds", "3600", stdout=out)
        match = re.search(r"sound: (\d+) entries", out.getvalue())
        assert match is not None, out.getvalue()
        entries = int(match.group(1))

    settings_dict = dict(connection.settings_dict)
    verified = measure(verify, repeat=int(repeat))
    bare = measure(lambda: _bare_loop(settings_dict), repeat=int(repeat))
    return {"entries": entries, "verify": verified.median, "bare": bare.median}


def _child(url: str, scratch: Path, entries: int, small: bool) -> dict:
    environment = {
        **os.environ,
        "DATABASE_URL": url,
        "RAKSA_KEYSTORE_URL": f"sqlite:///{scratch / 'keystore.sqlite3'}",
        "RAKSA_AUDIT_CHECKPOINT_FILE": str(scratch / "checkpoints.jsonl"),
        "DJANGO_SETTINGS_MODULE": "raksa.settings",
    }
    arguments = [sys.executable, "-m", "bench.audit", str(entries), "small" if small else "full"]
    done = subprocess.run(arguments, env=environment, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"bench audit child failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _figures(database: str, found: dict) -> list[Figure]:
    entries = found["entries"]
    figures = []
    if "verify" in found:
        figures.append(
            Figure(
                f"audit verify, {entries:,} entries, {database}",
                found["verify"] / found["bare"],
                2.0,
                "x bare loop",
                detail=f"verify {found['verify']:.2f} s, bare read+SHA-256 loop {found['bare']:.2f} s",
            )
        )
    figures += [
        Figure(
            f"audit sequencer, {database}",
            found["chain_rate"],
            50_000,
            "entries/s",
            direction="min",
            detail=f"chained {entries:,} committed entries in {found['chain_seconds']:.2f} s, "
            f"load average {found['load']:.1f} on {os.cpu_count()} cores",
        ),
        Figure(
            f"audit sequencer on its own CPU time, {database}",
            entries / found["chain_cpu"],
            50_000,
            "entries/s",
            direction="min",
            detail=f"{found['chain_cpu']:.2f} CPU s of the sequencer"
            + (" and its server process" if database == "PostgreSQL" else "")
            + ": its rate on cores of its own",
        ),
    ]
    figures.append(
        Figure(
            f"audit entries for a list screen ({BULK:,}), {database}",
            found["bulk"] / found["bulk_bare"],
            None,
            "x bare",
            detail=f"record_many_committed {found['bulk'] * 1000:.1f} ms (validated, one "
            + ("COPY" if database == "PostgreSQL" else "executemany")
            + f", committed); the same rows by a bare one in one transaction {found['bulk_bare'] * 1000:.1f} ms",
        )
    )
    if "record" in found:
        record, bare, plain = found["record"], found["bare_insert"], found["bare_plain"]
        figures += [
            Figure(
                f"audit insert p95, {WRITERS} writers, {database}",
                record["insert"]["p95"] * 1000,
                5.0,
                "ms",
                detail=f"record() inside a begun transaction, commit not included; median "
                f"{record['insert']['median'] * 1000:.2f} ms, {record['count']:,} entries, sequencer running; "
                f"the same row by a bare INSERT in the same moments: p95 {bare['insert']['p95'] * 1000:.2f} ms "
                f"(into a copy of the table without its statement trigger: {plain['insert']['p95'] * 1000:.2f} ms, "
                f"so the trigger costs {(bare['insert']['median'] - plain['insert']['median']) * 1000:+.3f} ms "
                f"at the median); load average {found['load']:.1f} on {os.cpu_count()} cores",
            ),
            Figure(
                f"audit insert p95 / bare INSERT p95, {WRITERS} writers, {database}",
                record["insert"]["p95"] / bare["insert"]["p95"],
                None,
                "x bare",
                detail=f"medians {record['insert']['median'] * 1000:.2f} / {bare['insert']['median'] * 1000:.2f} ms",
            ),
            Figure(
                f"audit insert and commit p95, {WRITERS} writers, {database}",
                record["both"]["p95"] * 1000,
                None,
                "ms",
                detail=f"the commit alone (WAL flushed to disk) p95 {record['commit']['p95'] * 1000:.1f} ms; "
                f"bare INSERT and commit p95 {bare['both']['p95'] * 1000:.1f} ms, "
                f"plain table {plain['both']['p95'] * 1000:.1f} ms",
            ),
        ]
    return figures


# --- the child process ---------------------------------------------------------------------------


def _build(entries: int) -> None:
    """Bulk-insert unchained entries, about a third of them about a subject, two fields each."""
    from raksa.audit.models import AuditEntry

    start = datetime.now(UTC) - timedelta(days=30)
    batch = 10_000
    for offset in range(0, entries, batch):
        AuditEntry.objects.bulk_create(
            [
                AuditEntry(
                    time=start + timedelta(microseconds=37 * number),
                    actor_id=uuid.uuid4() if number % 2 else None,
                    role="officer" if number % 2 else "",
                    agency_id=number % 50 or None,
                    subject_id=uuid.uuid4() if number % 3 == 0 else None,
                    action="vault.read" if number % 2 else "account.login",
                    object_type="registration",
                    object_id=str(number),
                    fields="email,phone",
                    purpose="deliver_service",
                    legal_basis="pdpa_s24_3",
                    request_id=uuid.uuid4().hex,
                    outcome="allowed",
                )
                for number in range(offset, min(offset + batch, entries))
            ],
            batch_size=2_000,
        )


def _quantiles(samples: list[float]) -> dict[str, float]:
    timing = Timing(tuple(samples))
    return {"median": timing.median, "p95": timing.p95}


def _cpu_seconds(connection: object) -> float:
    """CPU seconds used so far by this process and, on PostgreSQL, by its server process: what the
    sequencer costs, whatever else the shared machine is doing."""
    used = time.process_time()
    if getattr(connection, "vendor", "") == "postgresql":
        with connection.cursor() as cursor:  # type: ignore[attr-defined]
            cursor.execute("SELECT pg_backend_pid()")
            (pid,) = cursor.fetchone()
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        used += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


def _bare_loop(settings_dict: dict) -> int:
    """Read the same rows from the same database and chain SHA-256 over them; nothing else."""
    digest = b""
    count = 0
    query = BARE_QUERY
    if settings_dict["ENGINE"].endswith("sqlite3"):
        with sqlite3.connect(settings_dict["NAME"]) as database:
            for row in database.execute(query):
                digest = hashlib.sha256(digest + str(row).encode()).digest()
                count += 1
        return count
    with psycopg.connect(
        host=settings_dict["HOST"], port=settings_dict["PORT"] or 5432, dbname=settings_dict["NAME"], user="postgres"
    ) as database:
        cursor = database.cursor(name="bare")
        cursor.itersize = 20_000
        for row in cursor.execute(query):
            digest = hashlib.sha256(digest + str(row).encode()).digest()
            count += 1
    return count


def _writers(database_url: str, each: int) -> dict[str, list[tuple[float, float]]]:
    """WRITERS processes appending at once, each writing in turn through record(), by a bare INSERT
    of the same row into the audit table, and into a plain copy of it (no trigger), so that the three
    share the same moments of the machine; the sequencer keeps chaining meanwhile, as in production."""
    from raksa.audit.chain import chain_pending
    from raksa.audit.tests.appender import BARE_INSERT, BARE_PLAIN, RECORD, append

    ways = (RECORD, BARE_INSERT, BARE_PLAIN)
    context = multiprocessing.get_context("spawn")
    with context.Pool(WRITERS) as pool:
        pending = pool.starmap_async(append, [(database_url, each * len(ways), 0, ways)] * WRITERS)
        while not pending.ready():
            chain_pending()
            time.sleep(0.05)
        results = pending.get()
    chain_pending()
    found: dict[str, list[tuple[float, float]]] = {way: [] for way in ways}
    for latencies in results:
        for way, insert, commit in latencies:
            found[way].append((insert, commit))
    return found


BULK = 1_000


def _bulk_timings(repeat: int) -> dict:
    """A list screen's audit entries: record_many_committed of BULK entries against a bare COPY
    (executemany on SQLite) of the same rows in one transaction, each committed."""
    from django.db import connection, transaction

    from raksa.audit.actions import _COPY, _INSERT, _OPTIONAL, _row, _stored, record_many_committed

    entries = [
        {
            "action": "vault.read",
            "actor": uuid.uuid4(),
            "role": "officer",
            "agency_id": 3,
            "subject_id": uuid.uuid4(),
            "object_type": "registration",
            "object_id": str(number),
            "fields": ["email", "phone", "address"],
            "purpose": "deliver_service",
            "legal_basis": "pdpa_s24_3",
        }
        for number in range(BULK)
    ]
    # The same rows as the driver takes them, made before the clock starts.
    rows = [_stored(connection, _row(**(_OPTIONAL | entry))) for entry in entries]

    def bare() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor != "postgresql":
                cursor.executemany(_INSERT, rows)
                return
            with cursor.cursor.copy(_COPY) as copy:
                for row in rows:
                    copy.write_row(row)

    recorded = measure(lambda: record_many_committed(entries), repeat=repeat)
    baseline = measure(bare, repeat=repeat)
    return {"bulk": recorded.median, "bulk_bare": baseline.median}


def main(entries: int, small: bool) -> None:
    import io

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from raksa.audit.chain import chain_pending

    call_command("migrate", verbosity=0)
    _build(entries)
    with connection.cursor() as cursor:
        # What autovacuum's ANALYZE does after a bulk load: without statistics the planner scans.
        cursor.execute("ANALYZE audit_auditentry" if connection.vendor == "postgresql" else "ANALYZE")
    started, cpu_started = time.perf_counter(), _cpu_seconds(connection)
    chained = chain_pending(batch_size=10_000)
    chain_seconds = time.perf_counter() - started
    chain_cpu = _cpu_seconds(connection) - cpu_started
    assert chained == entries, (chained, entries)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE audit_auditlink" if connection.vendor == "postgresql" else "ANALYZE")

    found: dict = {
        "entries": entries,
        "chain_seconds": chain_seconds,
        "chain_rate": entries / chain_seconds,
        "chain_cpu": chain_cpu,
        "load": os.getloadavg()[0],
    }
    if connection.vendor == "sqlite":
        # PostgreSQL's verify figure is taken on the bench data set's chain (verify_timings).

        def verify() -> None:
            out = io.StringIO()
            call_command("audit", "verify", "--max-unchained-seconds", "3600", stdout=out)
            assert f"sound: {entries} entries" in out.getvalue(), out.getvalue()

        settings_dict = dict(connection.settings_dict)
        repeat = 5 if small else 3
        found["verify"] = measure(verify, repeat=repeat).median
        found["bare"] = measure(lambda: _bare_loop(settings_dict), repeat=repeat).median
    found |= _bulk_timings(repeat=5 if small else 9)
    if connection.vendor == "postgresql":
        from raksa.audit.tests.appender import BASELINE_TABLE

        with connection.cursor() as cursor:
            # The audit table's columns, defaults, constraints and indexes; not its trigger.
            cursor.execute(f"CREATE TABLE {BASELINE_TABLE} (LIKE audit_auditentry INCLUDING ALL)")
        each = 100 if small else 500
        for way, latencies in _writers(os.environ["DATABASE_URL"], each).items():
            found[way] = {
                "insert": _quantiles([insert for insert, _ in latencies]),
                "commit": _quantiles([commit for _, commit in latencies]),
                "both": _quantiles([insert + commit for insert, commit in latencies]),
                "count": len(latencies),
            }
    print(json.dumps(found))


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2] == "small")
