"""gunicorn workers killed with SIGKILL under load: no partial rows, and the access log holds every
request that was answered (S1, C2).

Run twice: under `make chaos` on the chaos stack's own PostgreSQL cluster, and in `make test` (the
PostgreSQL half) against the test database on the shared server, which a worker crash leaves alone:
no cluster to make and migrate, so it takes well under a minute and CI runs a crash test every time.
"""

import os
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path

import psycopg
import pytest
from django.db import connection, connections
from django.test import SimpleTestCase, TransactionTestCase

from raksa import devkeys
from raksa.chaos import citizens, stack
from raksa.core import demo
from raksa.disclosures import demo as disclosures_demo
from raksa.testing import production
from raksa.vault.routers import KEYSTORE

CITIZENS = 4
KILLS = 3


class WorkerCrash(SimpleTestCase):
    """The scenario; a test class gives it a server, its database and how to ingest the spool."""

    __test__ = False
    server: production.Gunicorn
    database_url: str

    def new_citizens(self, count: int, stop: threading.Event) -> list[citizens.Citizen]:
        raise NotImplementedError

    def ingest(self) -> None:
        raise NotImplementedError

    def test_it_keeps_every_answered_request_and_no_partial_row_across_kill_9_s1(self) -> None:
        stop = threading.Event()
        self.addCleanup(stop.set)
        people = self.new_citizens(CITIZENS, stop)
        threads = [threading.Thread(target=person.run, daemon=True) for person in people]
        for thread in threads:
            thread.start()
        killed = []
        for _ in range(KILLS):
            time.sleep(3)
            victim = self.server.workers()[0]
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)
        deadline = time.monotonic() + 60
        while len(set(self.server.workers()) - set(killed)) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2)  # some more writes through the replacement workers
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        self.server.stop()

        self.assertEqual(citizens.unfaithful_writes(self.database_url, people), [])
        answered = {request_id for person in people for request_id in person.client.answered}
        self.assertGreater(len(answered), 10)
        self.ingest()
        with psycopg.connect(self.database_url) as database:
            logged = {row[0] for row in database.execute("SELECT request_id FROM accesslog_accessrecord")}
        self.assertEqual(answered - logged, set())
        print(f"\n{KILLS} workers killed; {len(answered)} answered requests, every one in the access log")


@pytest.mark.chaos
class WorkerCrashTests(WorkerCrash):
    __test__ = True

    def setUp(self) -> None:
        self.stack = stack.shared()
        self.spool = self.stack.var / f"spool-{self.id()}"
        self.server = self.stack.serve(workers=3, env=self.stack.environment(spool=self.spool))
        self.addCleanup(self.server.stop)
        self.database_url = self.stack.database_url()

    def new_citizens(self, count: int, stop: threading.Event) -> list[citizens.Citizen]:
        return self.stack.new_citizens(count, self.server.port, stop)

    def ingest(self) -> None:
        self.stack.raksa("accesslog", "ingest", env=self.stack.environment(spool=self.spool))


def _url(alias: str) -> str:
    database = connections[alias].settings_dict
    credentials = f"{database['USER']}:{database['PASSWORD']}@" if database["USER"] else ""
    host = f"{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}"
    return f"postgres://{credentials}{host}/{database['NAME']}"


class WorkerCrashOnTestDatabaseTests(WorkerCrash, TransactionTestCase):
    __test__ = True
    databases = "__all__"

    def setUp(self) -> None:
        if connection.vendor != "postgresql" or connections[KEYSTORE].vendor != "postgresql":
            self.skipTest("gunicorn's workers share the database with this test: it runs in the PostgreSQL half")
        # What a citizen's writes need: Minburi's certificate (kept by its officer), and the policies
        # that cover its fields.
        demo.load_organisations()
        demo.load_accounts()
        demo.load_services()
        disclosures_demo.load()
        demo.load_policies()
        var = Path(tempfile.mkdtemp(prefix="raksa-worker-crash-"))
        self.addCleanup(shutil.rmtree, var, True)
        self.env = production.environment(
            database_url=_url("default"), keystore_url=_url(KEYSTORE), var=var, keys=devkeys.generate_keys()
        )
        production.raksa(
            "shell", "-c", citizens.CREATE_ACCOUNTS.format(count=CITIZENS, password=citizens.PASSWORD), env=self.env
        )
        self.server = production.Gunicorn(self.env, workers=3, log=var / "gunicorn.log")
        self.addCleanup(self.server.stop)
        self.database_url = _url("default").replace("postgres://", "postgresql://")

    def new_citizens(self, count: int, stop: threading.Event) -> list[citizens.Citizen]:
        return [citizens.Citizen(index, self.server.port, stop) for index in range(count)]

    def ingest(self) -> None:
        production.raksa("accesslog", "ingest", env=self.env)
