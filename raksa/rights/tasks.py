"""Background work of the rights app. Arguments are IDs only: the queue table is not encrypted."""

from django.tasks import task


@task()
def produce_export(*, export_id: str) -> str:
    # Imported here: actions enqueue this task, so a module-level import would be circular.
    from raksa.rights import exports
    from raksa.rights.models import Export

    return exports.produce(export=Export.objects.get(pk=export_id))
