import io
import multiprocessing

from django.core.management import call_command
from django.db import connection
from django.test import TransactionTestCase

from raksa.audit.chain import chain_pending
from raksa.audit.models import AuditEntry
from raksa.audit.tests.appender import append

PROCESSES = 4
EACH = 150


class ConcurrentWritersTests(TransactionTestCase):
    databases = "__all__"

    def test_it_keeps_one_chain_under_parallel_server_processes_s3(self) -> None:
        if connection.vendor != "postgresql":
            self.skipTest("the SQLite test database lives in memory, out of other processes' reach")
        context = multiprocessing.get_context("spawn")
        with context.Pool(PROCESSES) as pool:
            # Each process also runs the sequencer now and then, so sequencers race each other too.
            results = pool.starmap(append, [(connection.settings_dict["NAME"], EACH, 10)] * PROCESSES)
        self.assertEqual(sum(len(latencies) for latencies in results), PROCESSES * EACH)
        chain_pending()
        sequences = list(AuditEntry.objects.order_by("sequence").values_list("sequence", flat=True))
        self.assertEqual(sequences, list(range(1, PROCESSES * EACH + 1)))
        out = io.StringIO()
        call_command("audit", "verify", "--max-unchained-seconds", "0", stdout=out)
        self.assertIn(f"sound: {PROCESSES * EACH} entries chained", out.getvalue())
