"""Serving under load, shared by the benchmarks: gunicorn pinned to one core, `wrk` pinned to another.

A server's throughput is taken in requests per CPU-second its processes used (read from /proc), beside
the wall-clock rate: on a shared machine the first is the code's own cost, the second falls with the
load of other work.
"""

import contextlib
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.harness import smoke
from bench.scratch import CACHE

ROOT = Path(__file__).resolve().parent.parent
SERVER_CORE = "0"
CLIENT_CORE = "1"
# Collected static files older than this, of other sources, are removed when a new set is collected:
# another checkout may still be serving a recent one.
_STALE_SECONDS = 86_400


def link_static(var_dir: str | Path, environment: dict[str, str]) -> None:
    """Production's static files (hashed and compressed: about a minute of CPU on this machine) in
    var_dir/static: collected into CACHE/static-FINGERPRINT (bench/scratch.py) when their sources
    changed (ours, the pinned packages', the settings), then linked from there."""
    collected = CACHE / f"static-{_static_fingerprint()}"
    if not (collected / "staticfiles.json").exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="collecting-", dir=CACHE) as building:
            subprocess.run(
                [str(Path(sys.executable).parent / "raksa"), "collectstatic", "--noinput", "--verbosity", "0"],
                env={**environment, "RAKSA_VAR_DIR": building},
                cwd=ROOT,
                check=True,
            )
            for older in CACHE.glob("static-*"):
                if time.time() - older.stat().st_mtime > _STALE_SECONDS:
                    shutil.rmtree(older, ignore_errors=True)
            # If it fails, another run collected the same files meanwhile.
            with contextlib.suppress(OSError):
                (Path(building) / "static").rename(collected)
    (Path(var_dir) / "static").symlink_to(collected, target_is_directory=True)


def _static_fingerprint() -> str:
    digest = hashlib.sha256()
    sources = [*(ROOT / "static").rglob("*"), *ROOT.glob("raksa/*/static/**/*"), *ROOT.glob("requirements/*.txt")]
    for path in sorted([*sources, ROOT / "raksa" / "settings.py"]):
        if path.is_file():
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def pinning_available() -> bool:
    return shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2


def pinned(core: str, command: list[str]) -> list[str]:
    """The command run on that core only, when the machine has cores to spare."""
    return ["taskset", "-c", core, *command] if pinning_available() else command


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, *, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 (our own server)
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server at {url} did not answer")


@dataclass(frozen=True)
class Server:
    base: str
    process: subprocess.Popen

    @property
    def pid(self) -> int:
        return self.process.pid


@contextmanager
def gunicorn(
    application: str,
    environment: dict[str, str],
    *,
    workers: int = 1,
    threads: int = 1,
    ready: str = "/",
) -> Iterator[Server]:
    """gunicorn serving `application` on loopback, pinned to the server's core; stopped on exit."""
    port = free_port()
    worker_class = ["--worker-class", "gthread", "--threads", str(threads)] if threads > 1 else []
    command = [
        *(sys.executable, "-m", "gunicorn", application, "--workers", str(workers), *worker_class),
        *("--bind", f"127.0.0.1:{port}", "--log-level", "warning"),
    ]
    process = subprocess.Popen(pinned(SERVER_CORE, command), env=environment, cwd=ROOT)
    server = Server(f"http://127.0.0.1:{port}", process)
    try:
        wait_for(server.base + ready)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def cpu_seconds(master: int) -> float:
    """CPU time used so far by a gunicorn master and its workers."""
    ticks = os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    total = 0
    for pid in [master, *map(int, children)]:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


@dataclass(frozen=True)
class Throughput:
    requests: int
    per_cpu_second: float
    per_second: float


def wrk(url: str, seconds: int, master: int, *, connections: int = 8, script: Path | None = None) -> Throughput:
    """Drive `url` with wrk on the client's core after a warm-up (none in the smoke run, bench/harness.py,
    as for every measurement there); refuses a run that saw errors."""
    lua = ["-s", str(script)] if script else []
    if not smoke():
        subprocess.run(
            pinned(CLIENT_CORE, ["wrk", "-t1", "-c4", "-d1s", *lua, url]), capture_output=True, check=True, cwd=ROOT
        )
    before = cpu_seconds(master)
    done = subprocess.run(
        pinned(CLIENT_CORE, ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", *lua, url]),
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    used = cpu_seconds(master) - before
    # A timeout (no answer within 10 s) counts as an error too.
    if "Non-2xx" in done.stdout or "Socket errors" in done.stdout:
        raise RuntimeError(f"wrk saw errors from {url}:\n{done.stdout}")
    requests = re.search(r"(\d+) requests in", done.stdout)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    if requests is None or rate is None:
        raise RuntimeError(f"wrk printed no count:\n{done.stdout}")
    count = int(requests.group(1))
    return Throughput(count, count / used, float(rate.group(1)))
