"""Background work of the rights app. Arguments are IDs and codes only: the queue table is not encrypted."""

from django.tasks import task


@task()
def produce_export(*, export_id: str) -> str:
    # Imported here: actions enqueue these tasks, so a module-level import would be circular.
    from raksa.rights import exports
    from raksa.rights.models import Export

    return exports.produce(export=Export.objects.get(pk=export_id))


@task()
def send_request_mail(*, request_id: str, kind: str) -> bool:
    from raksa.rights import actions, mail
    from raksa.rights.models import RightsRequest

    request = RightsRequest.objects.get(pk=request_id)
    try:
        return mail.send(request, kind)
    except mail.SEND_ERRORS as error:
        actions.record_unsent_mail(request=request, kind=kind, error=type(error).__name__)
        return False


@task()
def carry_out_erasure(*, request_id: str) -> bool:
    """The erasure of a closed account (its request was filed with the password given again)."""
    from raksa.rights import actions
    from raksa.rights.models import RightsRequest

    return actions.carry_out_erasure(request=RightsRequest.objects.get(pk=request_id), actor=None)
