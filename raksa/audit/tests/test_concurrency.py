import io
import multiprocessing
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from django.core.management import call_command
from django.db import connection
from django.test import SimpleTestCase, TransactionTestCase

from raksa.audit.chain import chain_pending
from raksa.audit.models import AuditLink
from raksa.audit.tests.appender import append

PROCESSES = 4
EACH = 100


def _parallel_appends(database_url: str) -> int:
    """PROCESSES server processes appending at once, each also running the sequencer now and then,
    so that sequencers race each other too. Returns how many entries they recorded."""
    with multiprocessing.get_context("spawn").Pool(PROCESSES) as pool:
        results = pool.starmap(append, [(database_url, EACH, 10)] * PROCESSES)
    return sum(len(latencies) for latencies in results)


class PostgresqlWritersTests(TransactionTestCase):
    databases = "__all__"

    def test_it_keeps_one_chain_under_parallel_server_processes_s3(self) -> None:
        if connection.vendor != "postgresql":
            self.skipTest("PostgreSQL's half; SQLite's is SqliteFileWritersTests (its test database is in memory)")
        settings = connection.settings_dict
        url = f"postgres://{settings['USER']}:{settings['PASSWORD']}@{settings['HOST']}:{settings['PORT'] or 5432}"
        self.assertEqual(_parallel_appends(f"{url}/{settings['NAME']}"), PROCESSES * EACH)
        chain_pending()
        sequences = list(AuditLink.objects.order_by("sequence").values_list("sequence", flat=True))
        self.assertEqual(sequences, list(range(1, PROCESSES * EACH + 1)))
        out = io.StringIO()
        call_command("audit", "verify", "--max-unchained-seconds", "0", stdout=out)
        self.assertIn(f"sound: {PROCESSES * EACH} entries chained", out.getvalue())


class SqliteFileWritersTests(SimpleTestCase):
    """The same on a SQLite file of its own (the test database lives in memory, out of other processes' reach)."""

    def raksa(self, environment: dict[str, str], *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "raksa.cli", *args], env=environment, capture_output=True, text=True, check=False
        )
        self.assertEqual(done.returncode, 0, done.stderr)
        return done.stdout

    def test_it_keeps_one_chain_under_parallel_server_processes_s3(self) -> None:
        if connection.vendor != "sqlite":
            self.skipTest("SQLite's half; it needs no server, so it runs once, with the SQLite suite")
        with tempfile.TemporaryDirectory() as directory:
            url = f"sqlite:///{Path(directory) / 'audit.sqlite3'}"
            environment = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "raksa.settings",
                "DATABASE_URL": url,
                "RAKSA_KEYSTORE_URL": f"sqlite:///{Path(directory) / 'keys.sqlite3'}",
                "RAKSA_AUDIT_CHECKPOINT_FILE": str(Path(directory) / "checkpoints.jsonl"),
            }
            self.raksa(environment, "migrate", "--verbosity", "0")
            self.assertEqual(_parallel_appends(url), PROCESSES * EACH)
            self.raksa(environment, "audit", "chain")
            summary = self.raksa(environment, "audit", "verify", "--max-unchained-seconds", "0")
        self.assertIn(f"sound: {PROCESSES * EACH} entries chained, ending at #{PROCESSES * EACH}", summary)
