import tempfile
from pathlib import Path

from django.test import SimpleTestCase

from raksa.testing import production


class FollowTests(SimpleTestCase):
    def test_it_keeps_the_daily_run_going_while_the_database_does_not_answer(self) -> None:
        # A run that ended at a restart would end nothing again until someone started it.
        with tempfile.TemporaryDirectory() as var:
            status, said = production.follower_without_database("retention run --follow", Path(var))
        self.assertIsNone(status, said)
        self.assertIn("retention run: OperationalError; trying again in 60 s", said)
