"""Raksa as deployed, on a PostgreSQL cluster of its own: migrated, with the demo organisations and
services (or a copy of databases that have them), numbered citizens' accounts, and gunicorn in front.
One is built per test run and shared."""

import atexit
import shutil
import subprocess
import tempfile
import threading
import unittest
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from raksa import devkeys
from raksa.chaos import citizens
from raksa.testing import pgcluster, production


@dataclass(frozen=True)
class Source:
    """Databases (on another server) holding a migrated Raksa with the demo's organisations and
    services, and the keys they were sealed with: a stack copies them instead of building its own."""

    database_url: str
    keystore_url: str
    keys: dict[str, str]


FOLLOWERS = ("audit chain --follow", "accesslog ingest --follow", "db_worker --queue-name default --no-reload")


class Stack:
    def __init__(self, *, accounts: int, static_var: Path | None = None, source: Source | None = None) -> None:
        self.var = Path(tempfile.mkdtemp(prefix="raksa-chaos-"))
        self.static_var = static_var
        self.cluster = pgcluster.Cluster()
        self.servers: list[production.Gunicorn] = []
        self.followers: list[subprocess.Popen[bytes]] = []
        self._accounts = iter(range(accounts))
        self.cluster.start()
        try:
            self.keys = source.keys if source else devkeys.generate_keys()
            self.env = self.environment(spool=self.var / "spool")
            if source:
                self.cluster.copy_database("raksa", source.database_url)
                self.cluster.copy_database("raksa_keys", source.keystore_url)
            else:
                for database in ("raksa", "raksa_keys"):
                    self.cluster.create_database(database)
                self.raksa("migrate", "--noinput")
                self.raksa("migrate", "--database", "keystore", "--noinput")
                # The demo data is refused in production; the same databases and keys, in development mode.
                self.raksa("demo", env={**self.env, "RAKSA_ENV": "development", "RAKSA_VAR_DIR": str(self.var)})
            self.raksa("shell", "-c", citizens.CREATE_ACCOUNTS.format(count=accounts, password=citizens.PASSWORD))
        except BaseException:
            # Nobody else holds the cluster yet to stop it.
            self.destroy()
            raise

    def environment(self, *, spool: Path, **extra: str) -> dict[str, str]:
        return production.environment(
            database_url=self.cluster.url("raksa"),
            keystore_url=self.cluster.url("raksa_keys"),
            var=self.var,
            keys=self.keys,
            static_var=self.static_var,
            RAKSA_ACCESSLOG_SPOOL_DIR=str(spool),
            **extra,
        )

    def serve(self, *, workers: int = 3, env: dict[str, str] | None = None) -> production.Gunicorn:
        server = production.Gunicorn(env or self.env, workers=workers, log=self.var / "gunicorn.log")
        self.servers.append(server)
        return server

    def follow(self) -> dict[str, subprocess.Popen[bytes]]:
        """The audit sequencer and the access-log ingester, which run beside every deployed server, by
        command; what each says goes to a log (`last_said`)."""
        started = {}
        for command in FOLLOWERS:
            with self._follower_log(command).open("ab") as log:
                started[command] = subprocess.Popen(
                    [str(production.BIN / "raksa"), *command.split()],
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
        self.followers += started.values()
        return started

    def last_said(self, command: str, lines: int = 3) -> str:
        return "\n".join(self._follower_log(command).read_text(errors="replace").splitlines()[-lines:])

    def _follower_log(self, command: str) -> Path:
        return self.var / f"{'-'.join(command.split()[:2])}.log"

    def stop_following(self) -> None:
        for follower in self.followers:
            follower.terminate()
            try:
                follower.wait(timeout=30)
            except subprocess.TimeoutExpired:
                follower.kill()
                follower.wait()
        self.followers.clear()

    def new_citizens(self, count: int, port: int, stop: threading.Event) -> list[citizens.Citizen]:
        """`count` citizens on accounts no other test has used (their counts of consents are their own)."""
        return [citizens.Citizen(next(self._accounts), port, stop) for _ in range(count)]

    def account(self) -> str:
        """An account no other test has used."""
        return f"chaos{next(self._accounts)}"

    def raksa(self, *args: str, env: dict[str, str] | None = None) -> str:
        return production.raksa(*args, env=env or self.env)

    def database_url(self) -> str:
        return self.cluster.url("raksa").replace("postgres://", "postgresql://")

    def destroy(self) -> None:
        # The private cluster goes whatever stopping the rest raised: a left one keeps its port and files.
        try:
            self.stop_following()
            for server in self.servers:
                server.stop()
        finally:
            self.cluster.destroy()
            shutil.rmtree(self.var, ignore_errors=True)


ACCOUNTS = 40


@cache
def shared() -> Stack:
    """The test run's one stack (building it migrates a database: tens of seconds)."""
    reason = pgcluster.unavailable()
    if reason:
        raise unittest.SkipTest(f"no throwaway PostgreSQL cluster can be made here: {reason}")
    stack = Stack(accounts=ACCOUNTS)
    atexit.register(stack.destroy)
    return stack
