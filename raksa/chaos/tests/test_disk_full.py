"""The access-log spool's disk fills up (a small tmpfs): capture fails loudly, /healthz says so, and
every action that needs an audit entry refuses until there is room again (fail closed; S1, S3, C2)."""

import contextlib
import errno
import json
import os
import subprocess
import unittest

import psycopg
import pytest
from django.test import SimpleTestCase

from raksa.chaos import citizens, stack
from raksa.testing.webclient import WebClient

SPOOL_BYTES = 1024 * 1024
MARGIN_BYTES = 64 * 1024


def _fill(path: str) -> None:
    """Writes zeros until the file system has no room left."""
    try:
        with open(path, "wb", buffering=0) as filler:
            while True:
                filler.write(b"\0" * 4096)
    except OSError as error:
        if error.errno != errno.ENOSPC:
            raise


@pytest.mark.chaos
class DiskFullTests(SimpleTestCase):
    def setUp(self) -> None:
        self.stack = stack.shared()
        self.spool = self.stack.var / f"spool-{self.id()}"
        self.spool.mkdir()
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={SPOOL_BYTES}", "tmpfs", str(self.spool)],
            capture_output=True,
            text=True,
            check=False,
        )
        if mounted.returncode != 0:
            raise unittest.SkipTest(f"cannot mount a small tmpfs for the spool (needs root): {mounted.stderr.strip()}")
        self.addCleanup(subprocess.run, ["umount", "--lazy", str(self.spool)], check=False)
        env = self.stack.environment(spool=self.spool, RAKSA_ACCESSLOG_SPOOL_MIN_FREE_BYTES=str(MARGIN_BYTES))
        # One worker: the one whose spool fills is the one asked next.
        self.server = self.stack.serve(workers=1, env=env)
        self.addCleanup(self.server.stop)

    def requests_stored(self) -> int:
        with psycopg.connect(self.stack.database_url()) as database:
            (count,) = database.execute("SELECT count(*) FROM rights_rightsrequest").fetchone() or (0,)
        return count

    def file_request(self, client: WebClient) -> int:
        action = "/en/me/requests/new/"
        page = client.get(action)
        return client.post(action, client.form(page, action, {"details": "filed while the disk fills"})).status

    def test_it_fails_closed_when_the_access_log_disk_is_full_s1(self) -> None:
        client = WebClient("127.0.0.1", self.server.port)
        client.log_in(self.stack.account(), citizens.PASSWORD)
        self.assertEqual(self.file_request(client), 302)
        self.assertEqual(client.get("/healthz").status, 200)
        log_before = self.server.log.read_text()

        filler = self.spool / "filler"
        _fill(str(filler))
        stored = self.requests_stored()
        # Records still fit in the spool file's last page for a while; then they cannot be written.
        for _ in range(200):
            if "access log spool cannot be written (No space left on device)" in self.server.log.read_text():
                break
            client.get("/en/contact/")
        health = client.get("/healthz")
        self.assertEqual(health.status, 503)
        self.assertEqual(json.loads(health.body)["accesslog"], "error")
        action = "/en/me/requests/new/"
        page = client.get(action)
        refused = client.post(action, client.form(page, action, {"details": "filed while the disk is full"}))
        self.assertEqual(refused.status, 503)
        self.assertIn("บริการขัดข้องชั่วคราว", refused.body)
        self.assertNotIn("Traceback", refused.body)
        self.assertEqual(self.requests_stored(), stored)
        loud = self.server.log.read_text()[len(log_before) :]
        self.assertIn("ERROR raksa.accesslog.spool access log spool cannot be written (No space left on device)", loud)
        self.assertIn("ERROR raksa.core.views health check: access log spool failing", loud)

        os.unlink(filler)
        with contextlib.suppress(AssertionError):
            client.get("/en/")  # the first answer after: the records waiting in memory are written
        self.assertEqual(client.get("/healthz").status, 200)
        self.assertEqual(self.file_request(client), 302)
        self.assertEqual(self.requests_stored(), stored + 1)
