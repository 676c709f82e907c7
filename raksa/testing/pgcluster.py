"""A throwaway PostgreSQL cluster of one test's own: `initdb` under a temporary directory, its own
port, stopped the hard way (`pg_ctl stop -m immediate`, a crash as far as PostgreSQL knows) and
started again at will. The shared server is never touched.

PostgreSQL's tools refuse to run as root; as root they run as the `postgres` OS user.
"""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

BIN = Path(os.environ.get("RAKSA_PG_BIN", "/usr/lib/postgresql/15/bin"))
OS_USER = "postgres"


def unavailable() -> str | None:
    """Why no cluster can be made here (for a skip), or None."""
    if not (BIN / "initdb").exists():
        return f"PostgreSQL's server tools are not at {BIN} (set RAKSA_PG_BIN)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(OS_USER)
        except KeyError:
            return f"running as root, and there is no {OS_USER!r} OS user to run PostgreSQL as"
        if shutil.which("runuser") is None:
            return "running as root without runuser to start PostgreSQL as another user"
    return None


def version() -> str:
    """The server tools' PostgreSQL version ("15.20"), from "postgres (PostgreSQL) 15.20 (Debian …)"."""
    done = subprocess.run([str(BIN / "postgres"), "--version"], capture_output=True, text=True, check=True)
    return done.stdout.split()[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    """A new cluster, or with `standby_of` a hot standby streaming from that (running) cluster: a
    base backup of it that replays its write-ahead log as it comes and answers reads."""

    def __init__(self, *, standby_of: "Cluster | None" = None) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="raksa-pgcluster-"))
        self.data = self.directory / "data"
        self.log = self.directory / "postgresql.log"
        self.port = free_port()
        if os.geteuid() == 0:
            user = pwd.getpwnam(OS_USER)
            os.chown(self.directory, user.pw_uid, user.pw_gid)
        if standby_of is None:
            self._run(
                "initdb", "--auth=trust", "--username=postgres", "--encoding=UTF8", "--no-sync", "-D", str(self.data)
            )
        else:
            # -R writes primary_conninfo and standby.signal: started, it is a hot standby of the primary.
            primary = ("-h", "127.0.0.1", "-p", str(standby_of.port), "-U", "postgres")
            self._run("pg_basebackup", *primary, "-D", str(self.data), "-R", "-X", "stream", "-c", "fast")

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c max_connections=200"
        self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data), "-l", str(self.log), "-o", options)

    def crash(self) -> None:
        """Stops at once, without a checkpoint: the next start recovers from the write-ahead log."""
        self._run("pg_ctl", "stop", "-m", "immediate", "-D", str(self.data))

    def wait_until_down(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while (self.data / "postmaster.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.05)

    def create_database(self, name: str) -> None:
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)

    def copy_database(self, name: str, source: str) -> None:
        """Creates `name` as a copy of the database at the URL `source` (another server's), through
        pg_dump into pg_restore: seconds, where migrating a database from nothing takes tens of them.
        Owners and grants are left out: this cluster has only its superuser."""
        self.create_database(name)
        options = ("--no-owner", "--no-acl")
        restoring = ("--exit-on-error", "--single-transaction")
        with tempfile.TemporaryFile() as complaints:
            dump = subprocess.Popen(
                [str(BIN / "pg_dump"), "--format=custom", "--compress=0", *options, "--dbname", source],
                stdout=subprocess.PIPE,
                stderr=complaints,
            )
            with dump:
                # One transaction: one commit to flush, where a commit per object took seconds on a busy disk.
                restore = subprocess.run(
                    [str(BIN / "pg_restore"), *options, *restoring, "--dbname", self.url(name)],
                    stdin=dump.stdout,
                    capture_output=True,
                    text=True,
                    check=False,
                    timeout=300,
                )
            complaints.seek(0)
            dumped = complaints.read().decode(errors="replace").strip()
        if dump.returncode != 0 or restore.returncode != 0:
            raise RuntimeError(f"copying {source.rsplit('/', 1)[-1]} failed: {dumped} {restore.stderr.strip()}")

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run(self._command("pg_ctl", "stop", "-m", "immediate", "-D", str(self.data)), check=False)
        shutil.rmtree(self.directory, ignore_errors=True)

    def _command(self, tool: str, *args: str) -> list[str]:
        command = [str(BIN / tool), *args]
        return ["runuser", "-u", OS_USER, "--", *command] if os.geteuid() == 0 else command

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(self._command(tool, *args), capture_output=True, text=True, check=False, timeout=120)
        if done.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr.strip()}\n{log[-2000:]}")
