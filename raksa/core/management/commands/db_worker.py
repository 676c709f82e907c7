"""`raksa db_worker`: django-tasks-db's task worker, kept running through a database restart.

Theirs ends at the first database error (a restart, or a database not up yet when the worker starts):
the queued e-mails and exports would then wait until someone started it again. This one logs the
error's kind and starts the worker again, waiting longer after each failure in a row, as the other
following daemons do (raksa.core.retry). Its options are theirs (`--queue-name`, `--interval`, ...).

A task the worker was running when the database failed stays claimed ("running") for good: the worker
could not record its end. Before starting again it puts those back in the queue, so an erasure or a
confirmation e-mail is not lost; a task whose end alone went unrecorded then runs twice (at least once).
"""

import logging
import time
from typing import Any

from django.db import DatabaseError, connections
from django.tasks import TaskResultStatus
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from raksa.core.retry import error_kind, retry_delay

logger = logging.getLogger(__name__)
LONGEST_RETRY_SECONDS = 10.0
# A worker that ran this long since its last failure starts counting failures afresh.
RECOVERED_SECONDS = 60.0


class Command(db_worker.Command):
    def handle(self, *args: Any, **options: Any) -> None:  # theirs, with its typed options
        failures, last_failure = 0, time.monotonic()
        while True:
            try:
                if failures:
                    requeued = requeue_interrupted(worker_id=options["worker_id"])
                    if requeued:
                        logger.warning("task worker: %d interrupted tasks queued again", requeued)
                super().handle(*args, **options)
                return
            except DatabaseError as error:
                if time.monotonic() - last_failure > RECOVERED_SECONDS:
                    failures = 0
                failures += 1
                last_failure = time.monotonic()
                delay = retry_delay(failures, first=1.0, longest=LONGEST_RETRY_SECONDS)
                logger.warning("task worker: %s; trying again in %.1f s", error_kind(error), delay)
                connections.close_all()
                time.sleep(delay)


def requeue_interrupted(*, worker_id: str) -> int:
    """Puts the tasks this worker claimed and never finished back in the queue; returns how many.
    Few tasks are running at any time: their claimants are compared here, not in SQL (SQLite has no
    JSON containment)."""
    running = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).values_list("id", "worker_ids")
    mine = [task_id for task_id, claimants in running if claimants and claimants[-1] == worker_id]
    return DBTaskResult.objects.filter(id__in=mine, status=TaskResultStatus.RUNNING).update(
        status=TaskResultStatus.READY, started_at=None
    )
