"""`raksa db_worker`: django-tasks-db's task worker, kept running through a database restart.

Theirs ends at the first database error (a restart, or a database not up yet when the worker starts):
the queued e-mails and exports would then wait until someone started it again. This one logs the
error's kind and goes on, waiting longer after each failure in a row, as the other following daemons
do (raksa.core.retry). Only a lost or refused connection is waited out: any other database error (a
missing table after a forgotten migration, a missing grant) ends the worker, as theirs did. Its
options are theirs (`--queue-name`, `--interval`, ...).

A task the worker was running when the database failed stays claimed ("running") for good: the worker
could not record its end. Once the database answers again the worker puts that task back in the queue,
so an erasure or a confirmation e-mail is not lost; a task whose end alone went unrecorded then runs
twice (at least once). A task interrupted `MAX_CLAIMS` times (one that breaks its own connection) is
marked failed instead, so it cannot hold the queue's head for ever.

A failed task's record keeps its traceback as the log shows it: a database error's message, which can
name the values it refused, and the configured hosts and users are withheld (raksa.core.logformat).
"""

import logging
import os
import time
import uuid
from functools import partial
from typing import Any

from django.core.management.base import CommandError
from django.db import InterfaceError, OperationalError, connections
from django.tasks import TaskResultStatus
from django.utils import timezone
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import retry

from raksa.core.logformat import withheld_traceback
from raksa.core.retry import error_kind, retry_delay

logger = logging.getLogger(__name__)
LONGEST_RETRY_SECONDS = 10.0
# A worker that ran this long since its last failure starts counting failures afresh.
RECOVERED_SECONDS = 60.0
MAX_CLAIMS = 3
INTERRUPTED = "raksa.core.management.commands.db_worker.Interrupted"


class ResilientWorker(db_worker.Worker):
    """Their worker, one for the process's life (so a stop asked for during a failure is kept, and
    `--max-tasks` counts every task), which waits out a lost connection and re-queues its own task."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.claimed: uuid.UUID | None = None

    def run_task(self, db_task_result: DBTaskResult) -> None:
        self.claimed = db_task_result.id
        # Theirs stores the whole text, which never reaches the database here (nor its write-ahead log).
        set_failed = retry()(partial(record_failure, db_task_result))
        db_task_result.set_failed = set_failed
        super().run_task(db_task_result)
        self.claimed = None  # not reached when recording its end failed: then it is re-queued

    def run(self) -> None:
        failures, last_failure = 0, time.monotonic()
        while True:
            try:
                if self.claimed is not None:
                    requeue_interrupted(self.claimed)
                    self.claimed = None
                super().run()
                return
            except (OperationalError, InterfaceError) as error:
                if self.batch or not self.running:
                    raise
                if time.monotonic() - last_failure > RECOVERED_SECONDS:
                    failures = 0
                failures += 1
                last_failure = time.monotonic()
                delay = retry_delay(failures, first=1.0, longest=LONGEST_RETRY_SECONDS)
                logger.warning("task worker: %s; trying again in %.1f s", error_kind(error), delay)
                connections.close_all()
            # Outside the handler: Ctrl-C while waiting must not print the error's chained message.
            time.sleep(delay)


class Command(db_worker.Command):
    def handle(
        self,
        *,
        verbosity: int,
        queue_name: str,
        interval: float,
        batch: bool,
        backend_name: str,
        startup_delay: bool,
        reload: bool,
        max_tasks: int | None,
        worker_id: str,
        exclude_queues: str,
        **options: Any,
    ) -> None:
        # Theirs, with our worker: the same options, checks and reloader.
        self.configure_logging(verbosity)
        queue_names = queue_name.split(",")
        excluded_queue_names = exclude_queues.split(",") if exclude_queues else []
        if excluded_queue_names and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = ResilientWorker(
            queue_names=queue_names,
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=startup_delay,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=excluded_queue_names,
        )
        if reload and not batch:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()  # only the reloader's child runs the worker
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()


def record_failure(result: DBTaskResult, error: BaseException) -> None:
    """django-tasks-db's `set_failed`, with the traceback as the log shows it."""
    result.status = TaskResultStatus.FAILED
    result.finished_at = timezone.now()
    result.exception_class_path = f"{type(error).__module__}.{type(error).__qualname__}"
    result.traceback = withheld_traceback(error)
    result.return_value = None
    result.save(update_fields=["status", "return_value", "finished_at", "exception_class_path", "traceback"])


def requeue_interrupted(task_id: uuid.UUID) -> None:
    """Puts a task this worker was running when the database failed back in the queue, or marks it
    failed once it has been interrupted `MAX_CLAIMS` times (each claim adds the worker to its list)."""
    task = DBTaskResult.objects.filter(id=task_id, status=TaskResultStatus.RUNNING).first()
    if task is None:
        return  # its end was recorded after all
    if len(task.worker_ids) >= MAX_CLAIMS:
        DBTaskResult.objects.filter(id=task_id, status=TaskResultStatus.RUNNING).update(
            status=TaskResultStatus.FAILED, finished_at=timezone.now(), exception_class_path=INTERRUPTED, traceback=""
        )
        logger.error("task worker: task %s interrupted %d times; marked failed", task_id, len(task.worker_ids))
        return
    DBTaskResult.objects.filter(id=task_id, status=TaskResultStatus.RUNNING).update(
        status=TaskResultStatus.READY, started_at=None
    )
    logger.warning("task worker: interrupted task %s queued again", task_id)
