import tempfile
from pathlib import Path

from django.test import SimpleTestCase

from raksa.testing import production


class TaskWorkerTests(SimpleTestCase):
    def test_it_keeps_the_task_worker_running_while_the_database_does_not_answer(self) -> None:
        # django-tasks-db's own worker ended at the first database error: queued e-mails and exports
        # then waited for someone to start it again.
        with tempfile.TemporaryDirectory() as var:
            status, said = production.follower_without_database(
                "db_worker --queue-name default --interval 0.2 --no-reload --no-startup-delay", Path(var)
            )
        self.assertIsNone(status, said)
        self.assertIn("task worker: OperationalError; trying again in 1.0 s", said)
        self.assertNotIn("127.0.0.1", said)  # the message (the server's address) is withheld
