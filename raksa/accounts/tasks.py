"""Mail to account holders, sent by the background worker.

Arguments are IDs and codes only (the queue table is not encrypted): the task opens the address
through the vault for the mailer and makes the link's token itself, so neither is ever queued.
"""

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from raksa.accounts import addresses, tokens
from raksa.accounts.models import TokenPurpose, User

# Mail kind → the view its link opens (None: a notice without a link).
LINKS = {
    TokenPurpose.CONFIRM_EMAIL: "accounts:confirm_email",
    TokenPurpose.RESET_PASSWORD: "accounts:reset_link",
    TokenPurpose.INVITATION: "accounts:reset_link",
    TokenPurpose.CHANGE_EMAIL: "accounts:confirm_email_change",
    "signup_notice": None,
}


@task()
def send_account_mail(*, user_id: str, kind: str, origin: str, language: str) -> None:
    view = LINKS[kind]
    with transaction.atomic():
        user = User.objects.get(pk=user_id)
        link = ""
        if view is not None:
            raw = tokens.issue(user=user, purpose=kind)
            with translation.override(language):
                link = origin.rstrip("/") + reverse(view, kwargs={"token": raw})
        # A change of address is confirmed from the new address, the only one the link goes to.
        if kind == TokenPurpose.CHANGE_EMAIL:
            recipient = addresses.pending_for_mailer(user)
        else:
            recipient = addresses.open_for_mailer(user)
    if recipient is None:
        return  # the address was erased: there is nobody to write to
    with translation.override(language):
        context = {
            "username": user.username,
            "link": link,
            "minutes": settings.RAKSA_RESET_LINK_MINUTES,
            "hours": int(tokens.lifetime(kind).total_seconds() // 3600),
            "origin": origin,
        }
        subject = render_to_string(f"accounts/mail/{kind}_subject.txt", context).strip()
        body = render_to_string(f"accounts/mail/{kind}.txt", context)
    EmailMessage(subject=subject, body=body, to=[recipient]).send()
