"""Background work of the retention app. Arguments are IDs only: the queue table is not encrypted."""

from django.tasks import task


@task()
def finish_key_store_work(*, work_id: int) -> int:
    # Imported here: the actions queue this task, so a module-level import would be circular.
    from raksa.retention import actions

    return actions.finish_key_store_work(work_id=work_id)
