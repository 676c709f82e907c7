"""gunicorn workers killed with SIGKILL under load: no partial rows, and the access log holds every
request that was answered (S1, C2)."""

import os
import signal
import threading
import time

import psycopg
import pytest
from django.test import SimpleTestCase

from raksa.chaos import citizens, stack

CITIZENS = 4
KILLS = 3


@pytest.mark.chaos
class WorkerCrashTests(SimpleTestCase):
    def setUp(self) -> None:
        self.stack = stack.shared()
        self.spool = self.stack.var / f"spool-{self.id()}"
        self.server = self.stack.serve(workers=3, env=self.stack.environment(spool=self.spool))
        self.addCleanup(self.server.stop)

    def test_it_keeps_every_answered_request_and_no_partial_row_across_kill_9_s1(self) -> None:
        stop = threading.Event()
        self.addCleanup(stop.set)
        people = self.stack.new_citizens(CITIZENS, self.server.port, stop)
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

        self.assertEqual(citizens.unfaithful_writes(self.stack.database_url(), people), [])
        answered = {request_id for person in people for request_id in person.client.answered}
        self.assertGreater(len(answered), 10)
        self.stack.raksa("accesslog", "ingest", env=self.stack.environment(spool=self.spool))
        with psycopg.connect(self.stack.database_url()) as database:
            logged = {row[0] for row in database.execute("SELECT request_id FROM accesslog_accessrecord")}
        self.assertEqual(answered - logged, set())
        print(f"\n{KILLS} workers killed; {len(answered)} answered requests, every one in the access log")
