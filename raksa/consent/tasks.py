"""Background work of the consent app. Arguments are IDs only: the queue table is not encrypted."""

from django.tasks import task


@task()
def send_mailing(*, mailing_id: int) -> int:
    # Imported here: actions enqueue this task, so a module-level import would be circular.
    from raksa.consent import actions
    from raksa.consent.models import Mailing

    return actions.deliver_mailing(mailing=Mailing.objects.get(pk=mailing_id))


@task()
def send_inquiry_receipt(*, inquiry_id: str, language: str) -> bool:
    from raksa.consent import actions
    from raksa.consent.models import Inquiry

    return actions.send_inquiry_mail(inquiry=Inquiry.objects.get(pk=inquiry_id), kind="receipt", language=language)
