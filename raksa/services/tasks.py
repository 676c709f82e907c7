"""Mail about a registration, sent by the background worker.

Arguments are the registration's ID and the kind of mail only (the queue table is not encrypted):
the task opens the address through the vault for the mailer. The mail says what happened and gives
the reference; it repeats none of the values the person gave.
"""

import logging

from django.core.mail import EmailMessage
from django.tasks import task
from django.template.loader import render_to_string
from django.utils import translation

from raksa.accounts import addresses
from raksa.accounts.models import User
from raksa.services import ical
from raksa.services.models import Registration, Service
from raksa.vault.openers import Opener

log = logging.getLogger(__name__)

KINDS = ("confirmation", "promoted", "cancelled", "status")


@task()
def send_registration_mail(*, registration_id: str, kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown registration mail {kind!r}")
    registration = Registration.objects.select_related("service__agency").get(pk=registration_id)
    recipient = _address(registration)
    if not recipient:
        log.info("registration %s: no e-mail address to send the %s mail to", registration.pk, kind)
        return
    service = registration.service
    with translation.override(registration.language):
        context = {"registration": registration, "service": service, "kind": kind}
        subject = render_to_string("services/mail/subject.txt", context).strip()
        body = render_to_string("services/mail/body.txt", context)
        message = EmailMessage(subject=subject, body=body, to=[recipient], reply_to=_reply_to(service))
        if service.is_activity and registration.holds_seat and kind in ("confirmation", "promoted"):
            invitation = ical.calendar([ical.event_lines(service)], method="PUBLISH")
            message.attach("activity.ics", invitation, "text/calendar")
    message.send()


def _address(registration: Registration) -> str:
    """The e-mail the person gave on the form, else the one on their account."""
    opened = Opener.for_system("mailer").open(registration.email)
    if opened:
        return str(opened)
    account = User.objects.filter(subject_id=registration.subject_id).first()
    return (addresses.open_for_mailer(account) or "") if account else ""


def _reply_to(service: Service) -> list[str]:
    return [service.agency.contact_email] if service.agency.contact_email else []
