"""A real server process, killed with SIGKILL: what it answered is exactly what the database gets."""

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.test import TestCase

from raksa.accesslog.ingest import ingest_spool
from raksa.accesslog.models import AccessRecord
from raksa.accesslog.redaction import REDACTED
from raksa.accesslog.tests.helpers import SpoolDirectory

TOKEN = "Mg-5f0c2d9e8b7a6f4e3d2c1b0a9f8e7d6c"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`raksa runserver --noreload` on a free loopback port, with the test routes and its own spool."""

    def __init__(self, spool: Path, var: Path) -> None:
        self.port = _free_port()
        self.log = var / f"server-{self.port}.log"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "raksa.accesslog.tests.settings",
            "RAKSA_ACCESSLOG_SPOOL_DIR": str(spool),
            "RAKSA_VAR_DIR": str(var),
            "RAKSA_LOG_LEVEL": "DEBUG",
            # The server only answers and spools; its own scratch databases keep it from needing
            # the database named by DATABASE_URL, which the test run never creates.
            "DATABASE_URL": f"sqlite:///{var / 'server.sqlite3'}",
            "RAKSA_KEYSTORE_URL": f"sqlite:///{var / 'server-keys.sqlite3'}",
        }
        raksa = Path(sys.executable).with_name("raksa")
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [str(raksa), "runserver", "--noreload", "--skip-checks", f"127.0.0.1:{self.port}"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        self.kill()
        raise AssertionError(f"the server did not start: {self.log.read_text()}")

    def get(self, path: str, **headers: str) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            return response.status
        finally:
            connection.close()

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


class KilledServerTests(TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        self.spool = self.enterContext(SpoolDirectory())
        self.var = Path(tempfile.mkdtemp(prefix="raksa-var-"))
        self.addCleanup(shutil.rmtree, self.var, ignore_errors=True)

    def test_it_keeps_exactly_the_answered_requests_across_kill_9_c2(self) -> None:
        server = Server(self.spool.path, self.var)
        answered = sum(1 for i in range(37) if server.get(f"/?page={i}") == 302)
        server.kill()
        self.assertEqual(answered, 37)
        ingest_spool(directory=self.spool.path)
        self.assertEqual(AccessRecord.objects.count(), 37)

        restarted = Server(self.spool.path, self.var)
        answered += sum(1 for _ in range(23) if restarted.get("/") == 302)
        restarted.kill()
        report = ingest_spool(directory=self.spool.path)
        self.assertEqual(report.records, 23)
        self.assertEqual(AccessRecord.objects.count(), answered)
        self.assertEqual(sorted(AccessRecord.objects.values_list("path", flat=True))[:2], ["/", "/"])
        self.assertEqual(list(self.spool.path.iterdir()), [])  # a dead worker's files are finished and gone

    def test_it_writes_no_token_to_the_server_log_c2(self) -> None:
        server = Server(self.spool.path, self.var)
        self.assertEqual(server.get(f"/th/testing/reset/{TOKEN}/"), 302)
        server.get("/th/testing/set-password/", Referer=f"http://127.0.0.1:{server.port}/th/testing/reset/{TOKEN}/")
        self.assertEqual(server.get(f"/en/testing/download/{TOKEN}/?token={TOKEN}"), 200)
        self.assertEqual(server.get(f"/en/testing/download/{TOKEN}"), 301)  # CommonMiddleware adds the slash
        self.assertEqual(server.get(f"/th/testing/reset/{TOKEN}/extra"), 404)
        # The server logs a request after answering it: wait for the 404's line before killing.
        deadline = time.monotonic() + 10
        while REDACTED not in server.log.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        server.kill()
        log = server.log.read_text()
        self.assertIn(REDACTED, log)  # the 404 line is there, cut
        self.assertNotIn(TOKEN, log)
        self.assertNotIn(TOKEN, self.spool.raw().decode())
        ingest_spool(directory=self.spool.path)
        self.assertEqual(AccessRecord.objects.count(), 5)
        self.assertNotIn(TOKEN, repr(list(AccessRecord.objects.values_list("path", "referrer"))))
