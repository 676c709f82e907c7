"""Two server processes on one PostgreSQL share nothing in memory that matters: a lockout earned on
one holds on the other, a log-out on one ends the session on the other, and the audit chain stays one
chain (A4, S1, S3)."""

import threading
import time

import pytest
from django.test import SimpleTestCase

from raksa.chaos import citizens, stack
from raksa.testing.webclient import WebClient

LOCK_AFTER = 3


@pytest.mark.chaos
class TwoServersTests(SimpleTestCase):
    def setUp(self) -> None:
        self.stack = stack.shared()
        env = self.stack.environment(
            spool=self.stack.var / f"spool-{self.id()}",
            RAKSA_LOGIN_SLOW_AFTER=str(LOCK_AFTER),
            RAKSA_LOGIN_LOCK_AFTER=str(LOCK_AFTER),
        )
        self.first = self.stack.serve(workers=2, env=env)
        self.addCleanup(self.first.stop)
        self.second = self.stack.serve(workers=2, env=env)
        self.addCleanup(self.second.stop)

    def visitor(self, server: object, cookies: dict[str, str] | None = None) -> WebClient:
        return WebClient("127.0.0.1", server.port, cookies=dict(cookies or {}))  # type: ignore[attr-defined]

    def log_in(self, client: WebClient, username: str, password: str) -> int:
        action = "/en/accounts/login/"
        page = client.get(action)
        return client.post(action, client.form(page, action, {"identifier": username, "password": password})).status

    def test_it_holds_a_lockout_earned_across_both_servers(self) -> None:
        username = self.stack.account()
        for attempt in range(LOCK_AFTER):
            server = (self.first, self.second)[attempt % 2]
            self.assertEqual(self.log_in(self.visitor(server), username, "not the password"), 200)
        for server in (self.first, self.second):
            client = self.visitor(server)
            self.assertEqual(self.log_in(client, username, citizens.PASSWORD), 200)
            self.assertNotIn("__Host-sessionid", client.cookies)

    def test_it_ends_a_session_on_both_servers_at_log_out_a4(self) -> None:
        on_first = self.visitor(self.first)
        on_first.log_in(self.stack.account(), citizens.PASSWORD)
        on_second = self.visitor(self.second, on_first.cookies)
        self.assertEqual(on_second.get("/en/accounts/").status, 200)
        logout = "/en/accounts/logout/"
        self.assertEqual(on_second.post(logout, on_second.form(on_second.get("/en/accounts/"), logout)).status, 302)
        self.assertEqual(self.visitor(self.first, on_first.cookies).get("/en/accounts/").status, 302)
        self.assertEqual(self.visitor(self.second, on_first.cookies).get("/en/accounts/").status, 302)

    def test_it_keeps_one_audit_chain_for_both_servers_s3(self) -> None:
        stop = threading.Event()
        self.addCleanup(stop.set)
        people = self.stack.new_citizens(2, self.first.port, stop) + self.stack.new_citizens(2, self.second.port, stop)
        threads = [threading.Thread(target=person.run, daemon=True) for person in people]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while sum(a.acknowledged for p in people for a in p.attempts) < 12 and time.monotonic() < deadline:
            time.sleep(0.2)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        self.assertEqual(citizens.unfaithful_writes(self.stack.database_url(), people), [])
        self.stack.raksa("audit", "chain")
        self.assertIn("sound", self.stack.raksa("audit", "verify", "--max-unchained-seconds", "0"))
