"""`make load` (issue 13): locust against Raksa as deployed, first steady, then the same load while
PostgreSQL restarts once.

Raksa runs on a PostgreSQL cluster of its own (raksa.chaos.stack): gunicorn with several workers in
production settings, the audit sequencer and the access-log ingester beside it. Citizens
(raksa/chaos/locustfile.py, the journeys of the benchmarks' load run too) browse, log in, write and
open their data; a page answering 4xx or 5xx counts as failed. Goals: the steady run has no error and a request p95
within 300 ms (issue 12's page figure); in the restart run, errors only between the crash and the
moment /healthz answers 200 again, and the p95 of a 10-second window back within the steady
figure (or 300 ms, the larger) within 60 s of that moment.

    make load                      # 50 citizens, 10 minutes each run (do not run it in CI)
    make load ARGS=--quick         # 10 citizens, 1 minute each run
"""

import argparse
import csv
import http.client
import math
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from raksa.chaos.stack import Stack
from raksa.testing.production import BIN

GOAL_P95_MS = 300.0
WINDOW_SECONDS = 10.0
RECOVERY_GOAL_SECONDS = 60.0
OUTAGE_SECONDS = 5.0


@dataclass
class Request:
    started: float
    name: str
    milliseconds: float
    failed: bool


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="make load", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 citizens for 1 minute each run")
    parser.add_argument("--users", type=int)
    parser.add_argument("--minutes", type=float)
    options = parser.parse_args(argv)
    users = options.users or (10 if options.quick else 50)
    seconds = 60 * (options.minutes or (1 if options.quick else 10))
    print(f"load: building Raksa on a PostgreSQL cluster of its own ({users} citizens, {seconds:.0f} s per run)…")
    stack = Stack(accounts=users)
    try:
        followers = stack.follow()
        server = stack.serve(workers=3)
        try:
            steady = _locust(stack, server.port, users, seconds, "steady")
            window: list[float] = []
            restarted = _locust(
                stack,
                server.port,
                users,
                seconds,
                "restart",
                during=lambda: window.extend(_restart(stack, server.port)),
            )
            # The sequencer and the ingester must outlive the restart too (what they last said, if not).
            stopped = {
                command: stack.last_said(command)
                for command, process in followers.items()
                if process.poll() is not None
            }
        finally:
            server.stop()
    finally:
        stack.destroy()
    return _report(steady, restarted, window, stopped)


def _locust(
    stack: Stack, port: int, users: int, seconds: float, name: str, during: Callable[[], None] | None = None
) -> list[Request]:
    log = stack.var / f"requests-{name}.csv"
    locust = subprocess.Popen(
        [
            *(str(BIN / "locust"), "-f", str(Path(__file__).with_name("locustfile.py")), "--headless"),
            *("--users", str(users), "--spawn-rate", str(max(1, users // 10)), "--host", f"http://127.0.0.1:{port}"),
            *("--only-summary", "--loglevel", "WARNING"),
        ],
        env={**stack.env, "RAKSA_CHAOS_ACCOUNTS": str(users), "RAKSA_CHAOS_REQUEST_LOG": str(log)},
        stdout=subprocess.DEVNULL,
    )
    # Stopped from here, not by --run-time: locust's clock starts before its slow imports (bench/load.py).
    if during is None:
        time.sleep(seconds)
    else:
        time.sleep(seconds / 2)
        started = time.monotonic()
        during()
        time.sleep(max(0.0, seconds / 2 - (time.monotonic() - started)))
    locust.send_signal(signal.SIGTERM)
    locust.wait(timeout=120)
    with log.open() as rows:
        return [
            Request(float(started), page, float(milliseconds), bool(error) or not status)
            for started, page, status, milliseconds, error in csv.reader(rows)
        ]


def _restart(stack: Stack, port: int) -> tuple[float, float]:
    """Crashes PostgreSQL, starts it again after OUTAGE_SECONDS; returns (crash, healthy again) as epoch times."""
    crashed = time.time()
    stack.cluster.crash()
    time.sleep(OUTAGE_SECONDS)
    stack.cluster.start()
    while not _healthy(port):
        time.sleep(0.1)
    return crashed, time.time()


def _healthy(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def _p95(requests: list[Request]) -> float:
    times = sorted(request.milliseconds for request in requests)
    return times[max(0, math.ceil(0.95 * len(times)) - 1)] if times else 0.0


def _report(steady: list[Request], restarted: list[Request], window: list[float], stopped: dict[str, str]) -> int:
    crashed, healthy = window
    steady_p95 = _p95(steady)
    normal = max(steady_p95, GOAL_P95_MS)
    # A request fails inside the window when it ends there (one sent before the crash may fail by it).
    outside = [r for r in restarted if r.failed and not crashed <= r.started + r.milliseconds / 1000 <= healthy + 1]
    back_after = None
    moment = healthy
    while moment < max((r.started for r in restarted), default=healthy):
        in_window = [r for r in restarted if moment <= r.started < moment + WINDOW_SECONDS and not r.failed]
        if in_window and _p95(in_window) <= normal:
            back_after = moment - healthy
            break
        moment += 1.0
    rows = [
        ("steady: requests", f"{len(steady):,}", "", True),
        ("steady: failed requests", f"{sum(r.failed for r in steady)}", "0", not any(r.failed for r in steady)),
        ("steady: request p95", f"{steady_p95:.0f} ms", f"≤ {GOAL_P95_MS:.0f} ms", steady_p95 <= GOAL_P95_MS),
        ("restart: PostgreSQL down until /healthz 200", f"{healthy - crashed:.1f} s", "", True),
        ("restart: failed inside that window", f"{sum(r.failed for r in restarted) - len(outside)}", "", True),
        ("restart: failed outside it", f"{len(outside)}", "0", not outside),
        (
            f"restart: 10-s p95 back to ≤ {normal:.0f} ms after",
            "never" if back_after is None else f"{back_after:.0f} s",
            f"≤ {RECOVERY_GOAL_SECONDS:.0f} s",
            back_after is not None and back_after <= RECOVERY_GOAL_SECONDS,
        ),
        ("restart: sequencer and ingester running after", "no" if stopped else "yes", "yes", not stopped),
    ]
    for figure, measured, goal, passed in rows:
        print(f"{figure:<48} {measured:>12} {goal:>10}  {'pass' if passed else 'FAIL'}")
    for request in outside[:5]:
        ended = request.started + request.milliseconds / 1000
        where = f"ended {ended - crashed:+.1f} s from the crash, {ended - healthy:+.1f} s from healthy"
        print(f"  failed outside the window: {request.name} ({where})")
    for command, said in stopped.items():
        print(f"  `raksa {command}` ended; it last said:\n{said}")
    return 0 if all(passed for *_, passed in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
