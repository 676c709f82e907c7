"""Raksa under load (issue 12): served as in production, driven on loopback from another core.

gunicorn serves Raksa in production settings on the bench data set (PostgreSQL), with the audit
sequencer and the access-log ingester running beside it, all pinned to one core; the load generator
runs on the other core.
- Throughput: `wrk` over the public pages (home in Thai and English, news, services), in requests
  per CPU-second of the server, against a bare Django view (bench/bare_django.py) served the same
  way in the same run.
- Journeys: locust with `make load`'s journeys (raksa/chaos/locustfile.py): citizens browsing,
  logging in, registering for a service (or cancelling), filing a request, giving or withdrawing
  consent and opening their data, each on an account of their own made for the run: 50
  of them for 5 minutes (10 for 5 s with --small). Error rate 0 and page p95 under 300 ms.
"""

import csv
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench import dataset, serving
from bench.harness import Figure
from raksa.chaos import citizens

WORKERS = 3
THREADS = 4
PUBLIC_PAGES = ("/th/", "/th/news/", "/th/services/", "/en/")
BIN = Path(sys.executable).parent


def run(*, small: bool) -> list[Figure]:
    if shutil.which("wrk") is None or not serving.pinning_available():
        print("bench load: `wrk`, `taskset` or a second core missing (apt-get install -y wrk): NOT measured")
        return []
    data = dataset.ensure("small" if small else "full")
    with tempfile.TemporaryDirectory(prefix="raksa-bench-load-") as directory:
        scratch = Path(directory)
        environment = data.environment(
            scratch,
            RAKSA_ENV="production",
            ALLOWED_HOSTS="127.0.0.1",
            RAKSA_SSL_REDIRECT="false",
            RAKSA_SMTP_HOST="127.0.0.1",
        )
        serving.link_static(scratch, environment)
        figures = _throughput(environment, scratch, seconds=1 if small else 15)
        users, seconds = (10, 5) if small else (50, 300)
        figures += _journeys(environment, scratch, users=users, seconds=seconds)
    return figures


def _throughput(environment: dict[str, str], scratch: Path, *, seconds: int) -> list[Figure]:
    script = scratch / "pages.lua"
    listed = ", ".join(f'"{page}"' for page in PUBLIC_PAGES)
    # As the TLS proxy in front of it would say: Raksa in production serves https only.
    script.write_text(
        f"local pages = {{{listed}}}\nlocal next_page = 0\n"
        "request = function()\n  next_page = next_page % #pages + 1\n"
        '  return wrk.format("GET", pages[next_page], {["X-Forwarded-Proto"] = "https"})\nend\n'
    )
    with serving.gunicorn("bench.bare_django:application", environment, workers=WORKERS, threads=THREADS) as bare:
        baseline = serving.wrk(bare.base + "/", seconds, bare.pid)
    with _raksa(environment) as server:
        pages = serving.wrk(server.base + "/", seconds, server.pid, script=script)
    ratio = pages.per_cpu_second / baseline.per_cpu_second
    setup = f"gunicorn {WORKERS} workers x {THREADS} threads on one core, wrk on the other, {seconds} s"
    return [
        Figure(
            "public pages per core, production server, PostgreSQL",
            pages.per_cpu_second,
            1000,
            "req/CPU-s",
            direction="min",
            detail=f"{', '.join(PUBLIC_PAGES)} in turn; {pages.per_second:,.0f} req/s wall clock; {setup}",
        ),
        Figure(
            "public pages vs a bare Django view, same server",
            ratio,
            None,
            "x bare",
            direction="min",
            detail=f"bare view {baseline.per_cpu_second:,.0f} req/CPU-s ({baseline.per_second:,.0f} req/s wall)",
        ),
    ]


@contextmanager
def _raksa(environment: dict[str, str], application: str = "raksa.wsgi:application") -> Iterator[serving.Server]:
    """Raksa's server with its sequencer and ingester beside it, as `make run` and production run them."""
    helpers = [
        subprocess.Popen(
            serving.pinned(serving.SERVER_CORE, [str(BIN / "raksa"), *command]),
            env=environment,
            stdout=subprocess.DEVNULL,
        )
        for command in (("audit", "chain", "--follow"), ("accesslog", "ingest", "--follow"))
    ]
    try:
        with serving.gunicorn(application, environment, workers=WORKERS, threads=THREADS, ready="/th/") as server:
            yield server
    finally:
        for helper in helpers:
            helper.terminate()
            helper.wait(timeout=30)


def _journeys(environment: dict[str, str], scratch: Path, *, users: int, seconds: int) -> list[Figure]:
    report = scratch / "locust"
    # The journeys' accounts, fresh for each run: the requests, consents and registrations earlier
    # runs left in theirs would make each run's pages longer than the last's.
    prefix = {"RAKSA_CHAOS_ACCOUNT_PREFIX": f"journeys{time.strftime('%Y%m%d%H%M%S')}-"}
    accounts = citizens.CREATE_ACCOUNTS.format(count=users, password=citizens.PASSWORD)
    made = [str(BIN / "raksa"), "shell", "--verbosity", "0", "-c", accounts]
    subprocess.run(made, env={**environment, **prefix}, cwd=serving.ROOT, check=True)
    cpu_log = scratch / "request-cpu"
    served = {**environment, "RAKSA_BENCH_REQUEST_CPU": str(cpu_log)}
    with _raksa(served, "bench.request_cpu:application") as server:
        # Only the journeys' requests: not the readiness check's.
        for written in scratch.glob(f"{cpu_log.name}.*"):
            written.unlink()
        locust = subprocess.Popen(
            serving.pinned(
                serving.CLIENT_CORE,
                [
                    *(str(BIN / "locust"), "-f", str(serving.ROOT / "raksa" / "chaos" / "locustfile.py"), "--headless"),
                    *("--users", str(users), "--spawn-rate", "10", "--host", server.base),
                    *("--csv", str(report), "--only-summary", "--loglevel", "WARNING"),
                ],
            ),
            env={**os.environ, **prefix, "PYTHONPATH": str(serving.ROOT), "RAKSA_CHAOS_ACCOUNTS": str(users)},
            cwd=serving.ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # Timed from here rather than by --run-time: gevent's loop starts that clock before locust's
        # slow imports on a busy machine, and a short run could end before it began. The clock starts
        # when locust writes its first statistics; on SIGTERM it stops its users and writes the last.
        deadline = time.monotonic() + 120
        while not Path(f"{report}_stats.csv").exists() and time.monotonic() < deadline and locust.poll() is None:
            time.sleep(0.2)
        time.sleep(seconds)
        locust.send_signal(signal.SIGTERM)
        locust.wait(timeout=120)
    total = _aggregated(report)
    exceptions = _rows(Path(f"{report}_exceptions.csv"))
    # What each failed request was (a 4xx/5xx, or no answer within the client's 15 s), so that a run
    # says whether its failures were errors or a saturated core's timeouts.
    failures = sorted(_rows(Path(f"{report}_failures.csv")), key=lambda row: -int(row["Occurrences"]))
    failed = [f"{row['Occurrences']}x {row['Method']} {row['Name']}: {row['Error'][:60]}" for row in failures[:3]]
    errors = int(total["Failure Count"]) + sum(int(row["Count"]) for row in exceptions)
    requests = int(total["Request Count"])
    worst = max(_rows(Path(f"{report}_stats.csv"))[:-1], key=lambda row: float(row["95%"] or 0))
    setup = f"{users} citizens for {seconds} s, {requests:,} requests ({float(total['Requests/s']):.1f}/s)"
    pages, walls = _cpu_per_page(cpu_log)
    spent = [milliseconds for page in pages.values() for milliseconds in page]
    dearest = sorted(pages.items(), key=lambda item: -sum(item[1]))[:4]
    # The page longest inside the server, beside its CPU: far more wall time than CPU is a wait.
    longest = max(walls, key=lambda page: _p95(walls[page]), default="")
    return [
        Figure(
            f"journeys page p95, {users} citizens",
            float(total["95%"]),
            300,
            "ms",
            detail=f"{setup}; median {total['50%']} ms; slowest page {worst['Name']} p95 {worst['95%']} ms",
        ),
        Figure(
            f"journeys error rate, {users} citizens",
            100 * errors / max(requests, 1),
            0,
            "%",
            detail=f"{errors} failed requests or broken journeys; "
            + ("; ".join(failed + [f"{row['Count']}x {row['Message'][:80]}" for row in exceptions[:3]]) or "none"),
        ),
        # The server's own cost, steadier than p95 on a shared machine: one core keeps p95 under
        # 300 ms below about 75 % busy, i.e. about 16 ms a request at the journeys' 47 requests/s.
        Figure(
            f"journeys server CPU per request, {users} citizens",
            sum(spent) / max(len(spent), 1),
            None,
            "ms",
            detail="dearest pages (CPU in all, mean): "
            + "; ".join(f"{page} {sum(ms) / len(ms):.1f} ms x{len(ms)}" for page, ms in dearest)
            + (
                f"; longest inside the server: {longest} p95 {_p95(walls[longest]):.0f} ms wall, "
                f"{_p95(pages[longest]):.1f} ms CPU"
                if longest
                else ""
            ),
        ),
    ]


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-95 * len(ordered) // 100) - 1)] if ordered else 0.0


def _cpu_per_page(log: Path) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Each page's requests' CPU and wall time inside the server in ms ("GET /th/me/data/": [...]), as
    bench/request_cpu.py wrote them."""
    pages: dict[str, list[float]] = defaultdict(list)
    walls: dict[str, list[float]] = defaultdict(list)
    for written in log.parent.glob(f"{log.name}.*"):
        for line in written.read_text().splitlines():
            method, page, milliseconds, wall = line.split(" ")
            pages[f"{method} {page}"].append(float(milliseconds))
            walls[f"{method} {page}"].append(float(wall))
    return pages, walls


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open() as handle:
        return list(csv.DictReader(handle))


def _aggregated(report: Path) -> dict[str, str]:
    rows = _rows(Path(f"{report}_stats.csv"))
    if not rows or rows[-1]["Name"] != "Aggregated":
        raise RuntimeError(f"locust wrote no statistics to {report}_stats.csv")
    return rows[-1]
