import tempfile
import uuid
from pathlib import Path

from django.tasks import TaskResultStatus
from django.test import SimpleTestCase, TestCase
from django_tasks_db.models import DBTaskResult

from raksa.core.management.commands.db_worker import requeue_interrupted
from raksa.rights.tasks import send_request_mail
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


class RequeueTests(TestCase):
    def test_it_queues_again_the_tasks_it_was_running_when_the_database_failed(self) -> None:
        # A claimed task whose end could not be recorded stayed "running" for good: an erasure never done.
        mine, another_workers, waiting = (
            send_request_mail.enqueue(request_id=str(uuid.uuid4()), kind="received") for _ in range(3)
        )
        DBTaskResult.objects.get(id=mine.id).claim("worker-a")
        DBTaskResult.objects.get(id=another_workers.id).claim("worker-b")

        self.assertEqual(requeue_interrupted(worker_id="worker-a"), 1)

        statuses = dict(DBTaskResult.objects.values_list("id", "status"))
        self.assertEqual(statuses[uuid.UUID(str(mine.id))], TaskResultStatus.READY)
        self.assertEqual(statuses[uuid.UUID(str(another_workers.id))], TaskResultStatus.RUNNING)
        self.assertEqual(statuses[uuid.UUID(str(waiting.id))], TaskResultStatus.READY)
        self.assertIn(uuid.UUID(str(mine.id)), {result.id for result in DBTaskResult.objects.ready()})
