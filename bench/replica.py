"""Replica lag (issue 13; docs/DEPLOY.md, "PostgreSQL with read replicas"): how long after a commit on
the primary a streaming replica shows it, while Raksa writes through the primary.

Raksa as deployed on a PostgreSQL cluster of its own (raksa.chaos.stack: a copy of the tiny bench data
set, which holds the demo organisations and services, and numbered citizens' accounts) and a hot
standby made from it with pg_basebackup (raksa.testing.pgcluster), on this machine. gunicorn serves
Raksa in production settings with DATABASE_REPLICA_URL at the standby, so anonymous public pages read
the replica; citizens register, cancel, file requests and give or withdraw consents through it
(raksa.chaos.citizens) while a probe commits a numbered row on the primary every 20 ms and times how
long until the standby shows it. The same probe with nobody writing is the baseline. No issue names a
goal: the figures are for DEPLOY.md.
"""

import shutil
import tempfile
import threading
import time
from pathlib import Path

import psycopg

from bench import dataset, serving
from bench.harness import Figure, Timing
from raksa.chaos import stack
from raksa.testing import pgcluster, production
from raksa.testing.webclient import WebClient

PROBE_EVERY = 0.02
# The probe gives up on a row after this long; a lag that long is reported as it is, not waited out.
PATIENCE = 30.0


def run(*, small: bool) -> list[Figure]:
    reason = pgcluster.unavailable()
    if reason:
        print(f"bench replica: no throwaway PostgreSQL cluster can be made here ({reason}): NOT measured")
        return []
    people, seconds = (3, 3.0) if small else (12, 60.0)
    static = Path(tempfile.mkdtemp(prefix="raksa-bench-replica-"))
    unused = f"sqlite:///{static / 'unused.sqlite3'}"
    serving.link_static(
        static,
        production.environment(
            database_url=unused, keystore_url=unused, var=static, keys=dataset.KEYS, static_var=static
        ),
    )
    # The primary starts as a copy of the tiny data set (migrated, the demo's world, a hundred people),
    # not migrated from nothing: the lag is replay's, whatever the database holds.
    data = dataset.ensure("tiny")
    source = stack.Source(data.url, f"{data.url}_keys", dataset.KEYS)
    deployed = stack.Stack(accounts=people, static_var=static, source=source)
    standby = None
    try:
        deployed.cluster.create_database("lag_probe")
        with psycopg.connect(deployed.cluster.url("lag_probe"), autocommit=True) as primary:
            primary.execute("CREATE TABLE probe (n integer PRIMARY KEY)")
        standby = pgcluster.Cluster(standby_of=deployed.cluster)
        standby.start()
        server = deployed.serve(workers=3, env={**deployed.env, "DATABASE_REPLICA_URL": standby.url("raksa")})
        _check_the_replica_serves(server.port)
        idle = _probe(deployed.cluster, standby, seconds=min(seconds, 10.0), first=0)
        stop = threading.Event()
        citizens = deployed.new_citizens(people, server.port, stop)
        writers = [threading.Thread(target=citizen.run, daemon=True) for citizen in citizens]
        for writer in writers:
            writer.start()
        try:
            busy = _probe(deployed.cluster, standby, seconds=seconds, first=len(idle.samples))
        finally:
            stop.set()
            for writer in writers:
                writer.join(timeout=30)
        writes = sum(1 for citizen in citizens for attempt in citizen.attempts if attempt.acknowledged)
        errors = sum(len(citizen.errors) for citizen in citizens)
    finally:
        if standby is not None:
            standby.destroy()
        deployed.destroy()
        shutil.rmtree(static, ignore_errors=True)
    setup = f"primary and hot standby on this machine (PostgreSQL {pgcluster.version()}), gunicorn 3 workers"
    return [
        Figure(
            "replica lag p95, citizens writing",
            busy.p95 * 1000,
            None,
            "ms",
            detail=f"median {busy.median * 1000:.1f} ms, max {max(busy.samples) * 1000:.1f} ms over "
            f"{len(busy.samples)} probes in {seconds:.0f} s; {people} citizens made {writes} acknowledged writes "
            f"({writes / seconds:.1f}/s, {errors} errors); {setup}",
        ),
        Figure(
            "replica lag p95, nobody writing",
            idle.p95 * 1000,
            None,
            "ms",
            detail=f"median {idle.median * 1000:.1f} ms over {len(idle.samples)} probes; the same set-up",
        ),
    ]


def _check_the_replica_serves(port: int) -> None:
    """The public pages answer with the replica configured (that they read it, and nothing else, is
    raksa/chaos/tests/test_replica.py's to prove)."""
    for path in ("/th/", "/th/news/", "/th/services/"):
        answer = WebClient("127.0.0.1", port).get(path)
        if answer.status != 200:
            raise RuntimeError(f"{path} answered {answer.status} with the replica in use")


def _probe(primary: pgcluster.Cluster, standby: pgcluster.Cluster, *, seconds: float, first: int) -> Timing:
    """Commits row after row on the primary; each one's time until the standby shows it."""
    lags = []
    with (
        psycopg.connect(primary.url("lag_probe"), autocommit=True) as writer,
        psycopg.connect(standby.url("lag_probe"), autocommit=True) as reader,
    ):
        ends = time.monotonic() + seconds
        number = first
        while time.monotonic() < ends:
            started = time.monotonic()
            writer.execute("INSERT INTO probe (n) VALUES (%s)", [number])
            committed = time.perf_counter()
            while reader.execute("SELECT 1 FROM probe WHERE n = %s", [number]).fetchone() is None:
                if time.perf_counter() - committed > PATIENCE:
                    break
                # Often enough to see a few milliseconds, seldom enough not to slow the replay it waits for.
                time.sleep(0.001)
            lags.append(time.perf_counter() - committed)
            number += 1
            time.sleep(max(0.0, PROBE_EVERY - (time.monotonic() - started)))
    return Timing(tuple(lags))
