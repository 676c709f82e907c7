"""The spool: each worker process appends one line per request to a file of its own.

A line is written with one `write()` on an O_APPEND descriptor before the response returns, so it
survives a killed process (the kernel holds it); a thread fsyncs at least every second, so it also
survives a power cut up to that second. The ingester (raksa.accesslog.ingest) moves lines into the
database and deletes a file once the file is sealed (rotated away, or its process is gone) and
fully ingested.

A line is tab-separated: the file's own sequence number, then FIELDS; tabs, newlines and
backslashes inside a value are escaped with a backslash. Files are named
`<host>_<pid>_<start-ns>.spool` (`.sealed` once rotated), so the ingester can tell a dead writer's
leftovers from a live writer's file.

When the spool cannot be written (a full disk, a read-only or missing directory) nothing is dropped
in silence: the record waits in memory (up to BACKLOG_LIMIT), every failure is counted and logged
as an error, and /healthz reports the access log degraded with 503 until writing works again.
"""

import contextlib
import logging
import os
import shutil
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

log = logging.getLogger(__name__)

FIELDS = (
    "time_ms",
    "duration_us",
    "method",
    "status",
    "bytes_sent",
    "ip",
    "host",
    "path",
    "referrer",
    "user_agent",
    "subject_id",
    "request_id",
)
OPEN_SUFFIX = ".spool"
SEALED_SUFFIX = ".sealed"
BACKLOG_LIMIT = 10_000
ROTATE_BYTES = 64 * 1024 * 1024
ROTATE_SECONDS = 3600
FSYNC_SECONDS = 1.0

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_UNESCAPES = {"\\\\": "\\", "\\t": "\t", "\\n": "\n", "\\r": "\r"}


def escape(value: str) -> str:
    return value.translate(_ESCAPES)


def unescape(value: str) -> str:
    if "\\" not in value:
        return value
    out: list[str] = []
    index = 0
    while index < len(value):
        pair = value[index : index + 2]
        if pair in _UNESCAPES:
            out.append(_UNESCAPES[pair])
            index += 2
        else:
            out.append(value[index])
            index += 1
    return "".join(out)


@dataclass
class Counters:
    """This process's spool counters, reported by /healthz and in each error line."""

    written: int = 0
    failures: int = 0
    dropped: int = 0
    last_failure: float = 0.0
    last_success: float = 0.0
    last_error: str = ""


class SpoolWriter:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.counters = Counters()
        self._lock = threading.Lock()
        self._fd = -1
        self._path: Path | None = None
        self._sequence = 0
        self._size = 0
        self._opened_at = 0.0
        self._dirty = False
        self._backlog: deque[str] = deque()
        self._syncer: threading.Thread | None = None
        # Set to end the fsync thread (close()); each thread has its own, so a new file after close()
        # starts a new thread while the old one winds down.
        self._stop_syncing = threading.Event()
        # A forked worker (gunicorn's pre-fork model) must not share its parent's file or sequence.
        os.register_at_fork(after_in_child=self._reset_after_fork)

    def write(self, line: str) -> None:
        """Append one record (FIELDS joined by tabs, already escaped) before the response returns."""
        now = time.monotonic()
        with self._lock:
            try:
                if self._fd < 0 or self._size >= ROTATE_BYTES or now - self._opened_at >= ROTATE_SECONDS:
                    self._open()
                if self._backlog:  # records kept in memory by an earlier failure go first, in order
                    self._backlog.append(line)
                    self._drain()
                else:
                    self._append(line)
                self._dirty = True
                self.counters.last_success = now
            except OSError as error:
                if not self._backlog or self._backlog[-1] is not line:
                    self._backlog.append(line)
                self._failed(error)

    def healthy(self) -> bool:
        """No record waiting, and the last write (if any failed before it) succeeded."""
        # Under the lock: another thread's write in progress holds its line in the backlog for a moment.
        with self._lock:
            return not self._backlog and self.counters.last_failure <= self.counters.last_success

    def close(self) -> None:
        """Seals the file and ends the fsync thread; a later write opens a new file (and thread)."""
        with self._lock:
            self._seal()
            syncer, self._syncer = self._syncer, None
            self._stop_syncing.set()
        if syncer is not None and syncer is not threading.current_thread():
            syncer.join()

    # Inside the lock --------------------------------------------------------------------------------
    def _reset_after_fork(self) -> None:
        self._lock = threading.Lock()
        self._fd = -1
        self._path = None
        self._backlog.clear()
        self._syncer = None
        self._stop_syncing = threading.Event()

    def _append(self, line: str) -> None:
        self._sequence += 1
        data = f"{self._sequence}\t{line}\n".encode("utf-8", "replace")
        written = os.write(self._fd, data)
        if written != len(data):
            raise OSError(f"short write ({written} of {len(data)} bytes)")
        self._size += written
        self.counters.written += 1

    def _drain(self) -> None:
        while self._backlog:
            self._append(self._backlog[0])
            self._backlog.popleft()

    def _open(self) -> None:
        self._seal()
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{socket.gethostname()}_{os.getpid()}_{time.time_ns()}{OPEN_SUFFIX}"
        path = self.directory / name
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_EXCL, 0o600)
        self._path = path
        self._sequence = 0
        self._size = 0
        self._opened_at = time.monotonic()
        if self._syncer is None:
            self._stop_syncing = threading.Event()
            self._syncer = threading.Thread(
                target=self._sync_until, args=(self._stop_syncing,), name="accesslog-fsync", daemon=True
            )
            self._syncer.start()

    def _seal(self) -> None:
        if self._fd < 0 or self._path is None:
            return
        fd, path = self._fd, self._path
        self._fd, self._path = -1, None
        try:
            os.fsync(fd)
            os.close(fd)
            path.rename(path.with_suffix(SEALED_SUFFIX))
        except OSError as error:
            # The file stays as it is; the ingester treats a dead writer's file as sealed.
            log.error("access log spool: sealing a file failed (%s)", error.strerror or type(error).__name__)

    def _failed(self, error: OSError) -> None:
        self.counters.failures += 1
        self.counters.last_failure = time.monotonic()
        self.counters.last_error = error.strerror or str(error)
        while len(self._backlog) > BACKLOG_LIMIT:
            self._backlog.popleft()
            self.counters.dropped += 1
        log.error(
            "access log spool cannot be written (%s): %d records waiting in memory, %d failures, %d dropped",
            self.counters.last_error,
            len(self._backlog),
            self.counters.failures,
            self.counters.dropped,
        )
        # A half-written line must not run into the next one: the next write starts a new file.
        if self._fd >= 0:
            with contextlib.suppress(OSError):  # the descriptor is given up either way
                os.close(self._fd)
            self._fd, self._path = -1, None

    # The fsync thread -------------------------------------------------------------------------------
    def _sync_until(self, stop: threading.Event) -> None:
        while not stop.wait(FSYNC_SECONDS):
            with self._lock:
                if not self._dirty or self._fd < 0:
                    continue
                self._dirty = False
                # A duplicate descriptor: the fsync runs outside the lock (requests never wait on
                # the disk) and stays valid even if the writer rotates the file meanwhile.
                fd = os.dup(self._fd)
            try:
                os.fsync(fd)
            except OSError as error:
                with self._lock:
                    self._failed(error)
            finally:
                os.close(fd)


_writer: SpoolWriter | None = None
_writer_lock = threading.Lock()


def writer() -> SpoolWriter:
    """This process's writer, for the configured spool directory."""
    global _writer
    directory = Path(settings.RAKSA_ACCESSLOG_SPOOL_DIR)
    with _writer_lock:
        if _writer is None or _writer.directory != directory:
            if _writer is not None:
                _writer.close()  # its file sealed, its thread ended: nothing writes there any more
            _writer = SpoolWriter(directory)
        return _writer


def health() -> str | None:
    """None when records can be spooled here; otherwise why not (for /healthz and the log)."""
    directory = Path(settings.RAKSA_ACCESSLOG_SPOOL_DIR)
    current = _writer if _writer is not None and _writer.directory == directory else None
    if current is not None and not current.healthy():
        return f"recent write failures ({current.counters.last_error})"
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        return f"spool directory cannot be created ({error.strerror})"
    if not os.access(directory, os.W_OK | os.X_OK):
        return "spool directory is not writable"
    return _disk_problem(directory)


def capture_problem() -> str | None:
    """Why this process could not record the access of the request it serves; None when it can,
    and in processes that serve no requests (workers, commands).

    Audit entries made while serving a request point to its access record by request ID, so the audit
    log refuses to record (and the action with it) while that record cannot be written: fail closed
    (settings.RAKSA_AUDIT_ACCESS_RECORD_CHECK).
    """
    current = _writer
    if current is None:
        return None
    if not current.healthy():
        return f"recent write failures ({current.counters.last_error})"
    if not current.directory.exists():
        return None  # the first write creates it
    return _disk_problem(current.directory)


def _disk_problem(directory: Path) -> str | None:
    if shutil.disk_usage(directory).free < settings.RAKSA_ACCESSLOG_SPOOL_MIN_FREE_BYTES:
        return "spool disk is almost full"
    return None


def spool_files(directory: Path) -> list[Path]:
    """Every spool file, oldest first."""
    if not directory.exists():
        return []
    files = [p for p in directory.iterdir() if p.suffix in {OPEN_SUFFIX, SEALED_SUFFIX}]
    return sorted(files, key=lambda p: (p.name.split("_")[-1], p.name))


def is_sealed(path: Path) -> bool:
    """Sealed files are never written again: rotated away, or left by a process that is gone."""
    if path.suffix == SEALED_SUFFIX:
        return True
    parts = path.stem.rsplit("_", 2)
    host, pid = (parts[0], int(parts[1])) if len(parts) == 3 and parts[1].isdigit() else ("", -1)
    if host != socket.gethostname() or pid <= 0:
        return False
    if pid == os.getpid():
        return False  # this process's writer seals its own files when it rotates them
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
