import tempfile
from pathlib import Path

from django.test import SimpleTestCase

from raksa.testing import production


class ChainCommandTests(SimpleTestCase):
    def test_it_keeps_the_sequencer_running_while_the_database_does_not_answer_s1(self) -> None:
        # As when a machine starts the sequencer before PostgreSQL is up, or PostgreSQL restarts.
        with tempfile.TemporaryDirectory() as var:
            status, said = production.follower_without_database("audit chain --follow --interval 0.2", Path(var))
        self.assertIsNone(status, said)
        self.assertIn("audit sequencer: OperationalError; trying again in 0.2 s", said)
