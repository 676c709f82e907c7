"""PostgreSQL killed under citizens' writes, and started again: every acknowledged write is there with
its audit entry, nothing else is there half-written, and Raksa recovers by itself (S1, S3)."""

import json
import threading
import time

import psycopg
import pytest
from django.test import SimpleTestCase

from raksa.chaos import citizens, stack
from raksa.testing.webclient import WebClient

CITIZENS = 4
RECOVERY_SECONDS = 30
OUTAGE_SECONDS = 5


@pytest.mark.chaos
class DatabaseCrashTests(SimpleTestCase):
    def setUp(self) -> None:
        self.stack = stack.shared()
        self.server = self.stack.serve(workers=3)
        self.addCleanup(self.server.stop)
        self.stop = threading.Event()
        self.citizens = self.stack.new_citizens(CITIZENS, self.server.port, self.stop)
        self.threads = [threading.Thread(target=citizen.run, daemon=True) for citizen in self.citizens]
        self.followers = self.stack.follow()
        self.addCleanup(self.stack.stop_following)

    def acknowledged(self) -> list[citizens.Attempt]:
        return [attempt for citizen in self.citizens for attempt in citizen.attempts if attempt.acknowledged]

    def access_records(self) -> int:
        with psycopg.connect(self.stack.database_url()) as database:
            (count,) = database.execute("SELECT count(*) FROM accesslog_accessrecord").fetchone() or (0,)
        return int(count)

    def wait_for(self, condition: object, timeout: float, message: str) -> float:
        start = time.monotonic()
        while not condition():  # type: ignore[operator]
            if time.monotonic() - start > timeout:
                self.fail(message)
            time.sleep(0.1)
        return time.monotonic() - start

    def test_it_keeps_every_acknowledged_write_across_a_database_crash_s1(self) -> None:
        for thread in self.threads:
            thread.start()
        self.addCleanup(self.stop.set)
        self.wait_for(lambda: len(self.acknowledged()) >= 2 * CITIZENS, 90, "the citizens could not write at all")

        self.stack.cluster.crash()
        crashed_at = time.monotonic()
        health = WebClient("127.0.0.1", self.server.port).get("/healthz")
        self.assertEqual((health.status, json.loads(health.body)["database"]), (503, "error"))
        self.wait_for(lambda: sum(len(c.errors) for c in self.citizens) >= CITIZENS, 30, "nobody saw the outage")
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - crashed_at)))
        down_for = time.monotonic() - crashed_at

        self.stack.cluster.start()
        probe = WebClient("127.0.0.1", self.server.port)
        healthy_after = self.wait_for(
            lambda: probe.get("/healthz").status == 200, RECOVERY_SECONDS, "/healthz did not recover in 30 s"
        )
        ingested_at_restart = self.access_records()
        written_before = {id(a) for a in self.acknowledged()}
        writing_after = self.wait_for(
            lambda: all(any(a.acknowledged and id(a) not in written_before for a in c.attempts) for c in self.citizens),
            RECOVERY_SECONDS,
            "not every citizen could write again within 30 s of the restart",
        )
        # The sequencer and the ingester outlive the restart: the requests answered since are ingested.
        ingesting_after = self.wait_for(
            lambda: self.access_records() > ingested_at_restart,
            RECOVERY_SECONDS,
            "the access log was not ingested again within 30 s of the restart",
        )
        for command, process in self.followers.items():
            self.assertIsNone(process.poll(), f"raksa {command} ended: {self.stack.last_said(command)}")
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)
        print(
            f"\ndatabase down {down_for:.1f} s; /healthz 200 {healthy_after:.1f} s after the restart, every "
            f"citizen writing again after {healthy_after + writing_after:.1f} s, the access log ingested again "
            f"after {healthy_after + writing_after + ingesting_after:.1f} s; {len(self.acknowledged())} "
            f"writes acknowledged of {sum(len(c.attempts) for c in self.citizens)} tried"
        )

        errors = [response for citizen in self.citizens for response in citizen.errors]
        self.assertEqual({response.status for response in errors}, {503})
        for response in errors:
            self.assertIn("บริการขัดข้องชั่วคราว", response.body)
            self.assertIn("Service temporarily unavailable", response.body)
            self.assertNotIn("Traceback", response.body)
            self.assertNotIn("psycopg", response.body)
        self.assertEqual(citizens.unfaithful_writes(self.stack.database_url(), self.citizens), [])
        self.assertIn("sound", self.stack.raksa("audit", "chain") + self.stack.raksa("audit", "verify"))
