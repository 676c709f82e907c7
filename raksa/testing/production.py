"""Raksa as it runs in production (docs/DEPLOY.md), for tests and the load run: gunicorn with several
workers under RAKSA_ENV=production, behind an imagined TLS proxy (clients send X-Forwarded-Proto).
"""

import http.client
import os
import signal
import subprocess
import sys
import tempfile
import time
from functools import cache
from pathlib import Path

from raksa import devkeys
from raksa.testing.pgcluster import free_port

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent.parent


def environment(
    *,
    database_url: str,
    keystore_url: str,
    var: Path,
    keys: dict[str, str],
    static_var: Path | None = None,
    **extra: str,
) -> dict[str, str]:
    """The variables a production deployment sets (docs/DEPLOY.md); `keys` as `raksa keys generate` prints them.
    `static_var`: a var directory whose static/ holds collected static files (default: this run's own)."""
    return {
        **_inherited(),
        **keys,
        "DJANGO_SETTINGS_MODULE": "raksa.settings",
        "RAKSA_ENV": "production",
        "ALLOWED_HOSTS": "127.0.0.1",
        "RAKSA_SSL_REDIRECT": "false",
        "RAKSA_SMTP_HOST": "127.0.0.1",
        "RAKSA_SMTP_PORT": "1",
        "DATABASE_URL": database_url,
        "RAKSA_KEYSTORE_URL": keystore_url,
        "RAKSA_VAR_DIR": str(static_var or collected_static_var()),
        "RAKSA_MEDIA_DIR": str(var / "media"),
        "RAKSA_ACCESSLOG_SPOOL_DIR": str(var / "spool"),
        "RAKSA_AUDIT_CHECKPOINT_FILE": str(var / "checkpoints.jsonl"),
        # The spool's free-space margin suits a real disk; the tests' small ones set their own.
        "RAKSA_ACCESSLOG_SPOOL_MIN_FREE_BYTES": "0",
        **extra,
    }


def follower_without_database(command: str, var: Path, *, timeout: float = 60) -> tuple[int | None, str]:
    """`raksa COMMAND` (a --follow loop) started while its PostgreSQL does not answer (nothing listens
    on its port): None once it says it is trying again, or its exit status if it ended first; and what
    it said meanwhile."""
    process, log = start_without_database(command, var)
    try:
        deadline = time.monotonic() + timeout
        while process.poll() is None and "trying again" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        return process.poll(), log.read_text()
    finally:
        process.kill()
        process.wait()


def start_without_database(command: str, var: Path) -> tuple[subprocess.Popen[bytes], Path]:
    """`raksa COMMAND` started in production settings whose PostgreSQL does not answer (nothing listens
    on its port), and the file it writes its output to (var/follower.log). The caller ends it."""
    nowhere = f"postgres://raksa@127.0.0.1:{free_port()}"
    keys = devkeys.generate_keys()
    env = environment(
        database_url=f"{nowhere}/raksa", keystore_url=f"{nowhere}/keys", var=var, keys=keys, static_var=var
    )
    log = var / "follower.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(BIN / "raksa"), *command.split()], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    return process, log


@cache
def collected_static_var() -> Path:
    """One var directory per test run holding the collected static files production serves."""
    directory = Path(tempfile.mkdtemp(prefix="raksa-production-var-"))
    unused = f"sqlite:///{directory / 'unused.sqlite3'}"
    env = {
        **_inherited(),
        **devkeys.generate_keys(),
        "DJANGO_SETTINGS_MODULE": "raksa.settings",
        "RAKSA_ENV": "production",
        "ALLOWED_HOSTS": "127.0.0.1",
        "RAKSA_SMTP_HOST": "127.0.0.1",
        "DATABASE_URL": unused,
        "RAKSA_KEYSTORE_URL": unused,
        "RAKSA_VAR_DIR": str(directory),
    }
    raksa("collectstatic", "--noinput", "--verbosity", "0", env=env)
    return directory


def _inherited() -> dict[str, str]:
    """This process's environment without Raksa's and Django's own variables (the test run's settings)."""
    return {name: value for name, value in os.environ.items() if not name.startswith(("RAKSA_", "DJANGO_"))}


def raksa(*args: str, env: dict[str, str], timeout: float = 300) -> str:
    done = subprocess.run(
        [str(BIN / "raksa"), *args], env=env, capture_output=True, text=True, check=False, timeout=timeout
    )
    if done.returncode != 0:
        raise AssertionError(f"raksa {' '.join(args)} failed: {done.stdout}\n{done.stderr}")
    return done.stdout


class Gunicorn:
    """`gunicorn raksa.wsgi` with `workers` workers on a free loopback port."""

    def __init__(self, env: dict[str, str], *, workers: int = 3, log: Path) -> None:
        self.port = free_port()
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    str(BIN / "gunicorn"),
                    f"--config={ROOT / 'gunicorn.conf.py'}",
                    "raksa.wsgi:application",
                    f"--workers={workers}",
                    f"--bind=127.0.0.1:{self.port}",
                    "--graceful-timeout=5",
                    "--forwarded-allow-ips=127.0.0.1",
                ],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while len(self.workers()) < workers or not self._answers():
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise AssertionError(f"gunicorn did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)

    def _answers(self) -> bool:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            return True
        except OSError:
            return False
        finally:
            connection.close()

    def workers(self) -> list[int]:
        """The worker processes' IDs (the master's children)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
