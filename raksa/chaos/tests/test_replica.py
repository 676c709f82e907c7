"""A real streaming replica (docs/DEPLOY.md, "PostgreSQL with read replicas"): a hot standby made with
pg_basebackup from the stack's cluster, its replay paused so that it lags for sure. Anonymous visitors'
public pages come from it (they show the lagging copy, and a stray write there would fail: a standby
is read-only); a signed-in person reads the primary, so sees a change at once; writes go to the primary.
"""

import json
import threading
import time
import uuid
from collections.abc import Callable

import psycopg
import pytest
from django.test import SimpleTestCase

from raksa.chaos import citizens, stack
from raksa.testing import pgcluster
from raksa.testing.webclient import WebClient

PUBLIC_PAGES = ("/en/", "/en/news/", "/en/services/", f"/en/services/{citizens.SERVICE}/", "/en/privacy/")


@pytest.mark.chaos
class ReplicaTests(SimpleTestCase):
    def setUp(self) -> None:
        self.stack = stack.shared()
        self.standby = pgcluster.Cluster(standby_of=self.stack.cluster)
        self.addCleanup(self.standby.destroy)
        self.standby.start()
        env = self.stack.environment(
            spool=self.stack.var / f"spool-{self.id()}",
            DATABASE_REPLICA_URL=self.standby.url("raksa"),
            # Each visit renders its page: the public-page cache would hide which database was read.
            RAKSA_PUBLIC_PAGE_SECONDS="0",
        )
        self.server = self.stack.serve(workers=2, env=env)
        self.addCleanup(self.server.stop)

    def on_standby(self, statement: str) -> None:
        with psycopg.connect(self.standby.url("raksa"), autocommit=True) as standby:
            standby.execute(statement)

    def replay_paused(self) -> bool:
        with psycopg.connect(self.standby.url("raksa"), autocommit=True) as standby:
            row = standby.execute("SELECT pg_get_wal_replay_pause_state()").fetchone()
        return row is not None and row[0] == "paused"

    def publish_news(self, title: str) -> None:
        with psycopg.connect(self.stack.cluster.url("raksa"), autocommit=True) as primary:
            primary.execute(
                "INSERT INTO content_newsitem (title_th, title_en, summary_th, summary_en, body_th, body_en,"
                " published_at, is_published) VALUES (%s, %s, 'สรุป', 'Summary', 'เนื้อหา', 'Text', now(), true)",
                [title, title],
            )

    def test_it_serves_anonymous_public_pages_from_the_replica_and_signed_in_people_from_the_primary(self) -> None:
        visitor = WebClient("127.0.0.1", self.server.port)
        for path in PUBLIC_PAGES:
            with self.subTest(path):
                self.assertEqual(visitor.get(path).status, 200)
        health = visitor.get("/healthz")
        self.assertEqual((health.status, json.loads(health.body)["database"]), (200, "ok"))

        self.on_standby("SELECT pg_wal_replay_pause()")
        self.addCleanup(self.on_standby, "SELECT pg_wal_replay_resume()")
        # The call only asks for the pause: replay stops a moment later.
        self.assertTrue(self.eventually(self.replay_paused), "the standby did not pause its replay")
        title = f"Published while the replica lags {uuid.uuid4().hex[:8]}"
        self.publish_news(title)
        self.assertNotIn(title, visitor.get("/en/news/").body, "the anonymous news page read the lagging replica")

        person = self.stack.new_citizens(1, self.server.port, threading.Event())[0]
        person.client.log_in(person.username, citizens.PASSWORD)
        self.assertIn(title, person.client.get("/en/news/").body, "a signed-in person reads the primary")
        self.assertTrue(person.step(), "a signed-in person's writes reach the primary")
        self.assertTrue(person.attempts[-1].acknowledged)

        self.on_standby("SELECT pg_wal_replay_resume()")
        self.assertTrue(self.eventually(lambda: title in visitor.get("/en/news/").body), "replay caught up")

    @staticmethod
    def eventually(condition: Callable[[], bool], seconds: float = 30) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(0.2)
        return False
