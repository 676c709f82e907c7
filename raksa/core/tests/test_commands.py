import tempfile
import unittest
import uuid
from pathlib import Path

from django.db import connection
from django.tasks import TaskResultStatus, task
from django.test import SimpleTestCase, TestCase, TransactionTestCase
from django_tasks_db.models import DBTaskResult

from raksa.core.logformat import OneLineFormatter
from raksa.core.management.commands.db_worker import INTERRUPTED, MAX_CLAIMS, ResilientWorker, requeue_interrupted
from raksa.rights.tasks import send_request_mail
from raksa.testing import production


@task()
def refused_by_the_database(email: str) -> None:
    """A task whose write the database refuses: the driver's message names the value it refused."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE refused (email varchar(100) UNIQUE)")
        cursor.execute("INSERT INTO refused VALUES (%s), (%s)", [email, email])


@task()
def breaks_its_own_connection() -> None:
    """As when the server ends a task's backend (an operator, a timeout): the worker cannot record its end."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")


def worker_running(*, max_tasks: int, batch: bool) -> ResilientWorker:
    """A worker of the default queue in this process, ending after `max_tasks` (or, in batch mode, an empty queue)."""
    return ResilientWorker(
        queue_names=["default"],
        interval=0,
        batch=batch,
        backend_name="default",
        startup_delay=False,
        max_tasks=max_tasks,
        worker_id="tested",
        excluded_queue_names=[],
    )


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
    def test_it_queues_again_a_task_it_was_running_when_the_database_failed(self) -> None:
        # A claimed task whose end could not be recorded stayed "running" for good: an erasure never done.
        interrupted, waiting = (send_request_mail.enqueue(request_id=str(uuid.uuid4()), kind="received") for _ in "ab")
        DBTaskResult.objects.get(id=interrupted.id).claim("worker-a")

        requeue_interrupted(uuid.UUID(str(interrupted.id)))

        self.assertEqual(
            {str(result.id) for result in DBTaskResult.objects.ready()}, {str(interrupted.id), str(waiting.id)}
        )

    def test_it_fails_a_task_interrupted_again_and_again(self) -> None:
        # Re-queued for ever, a task that breaks its own connection would hold the queue's head.
        result = send_request_mail.enqueue(request_id=str(uuid.uuid4()), kind="received")
        stored = DBTaskResult.objects.get(id=result.id)
        for claim in range(MAX_CLAIMS):
            stored.claim(f"worker-{claim}")

        requeue_interrupted(stored.id)

        stored.refresh_from_db()
        self.assertEqual((stored.status, stored.exception_class_path), (TaskResultStatus.FAILED, INTERRUPTED))


class InterruptedTaskTests(TransactionTestCase):
    @unittest.skipUnless(connection.vendor == "postgresql", "SQLite has no server to end a task's connection")
    def test_it_runs_a_task_again_after_its_connection_was_lost_then_gives_up(self) -> None:
        result = breaks_its_own_connection.enqueue()
        after = send_request_mail.enqueue(request_id=str(uuid.uuid4()), kind="received")
        worker = worker_running(max_tasks=MAX_CLAIMS + 1, batch=False)

        worker.run()  # ends after MAX_CLAIMS + 1 tasks run

        stored = DBTaskResult.objects.get(id=result.id)
        self.assertEqual((stored.status, len(stored.worker_ids)), (TaskResultStatus.FAILED, MAX_CLAIMS))
        self.assertNotEqual(DBTaskResult.objects.get(id=after.id).status, TaskResultStatus.READY)


class FailedTaskTests(TransactionTestCase):
    def test_it_keeps_a_failed_tasks_traceback_without_the_values_its_error_named(self) -> None:
        # django-tasks-db stores the whole traceback of a failed task, message included: PostgreSQL's
        # says "Key (email)=(...) already exists", a value from the citizen's data.
        email = "somchai.canary@example.org"
        result = refused_by_the_database.enqueue(email=email)
        worker = worker_running(max_tasks=1, batch=True)

        with self.assertLogs("django.tasks", "ERROR") as logged:
            worker.run()

        stored = DBTaskResult.objects.get(id=result.id)
        self.assertEqual(stored.status, TaskResultStatus.FAILED)
        self.assertEqual(stored.exception_class_path, "django.db.utils.IntegrityError")
        self.assertIn("refused_by_the_database", stored.traceback)  # where it failed is kept
        self.assertIn("[withheld]", stored.traceback)
        self.assertNotIn("somchai.canary", stored.traceback)
        logged_lines = "\n".join(OneLineFormatter().format(record) for record in logged.records)
        self.assertIn("refused_by_the_database", logged_lines)
        self.assertNotIn("somchai.canary", logged_lines)
