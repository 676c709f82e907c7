"""Mail to the person at each step of their request (received, in progress, done, refused, extended).

A message names the kind of request, its dates, the legal reason of a refusal or an extension and a
link to the case page: never what the person wrote, nor any other value held about them. It goes to
the account's address, or to the address a person without an account gave the officer.
"""

import smtplib
from typing import Final

from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from raksa.accounts import addresses
from raksa.accounts.models import User
from raksa.rights.models import RightsRequest, Status

RECEIVED: Final = "received"
EXTENDED: Final = "extended"
# A restriction (or an upheld objection) ends: the person is told as processing resumes (mailed on commit;
# a message that fails stays on the case to be sent again).
LIFTED: Final = "lifted"
# Sent by erasure itself, to the address read before it was erased.
ERASED: Final = "erased"
# What a failed delivery raises (refused connection, SMTP error): recorded on the case, never lost.
SEND_ERRORS: Final = (smtplib.SMTPException, OSError)
KINDS: Final = frozenset({RECEIVED, EXTENDED, ERASED, LIFTED, Status.IN_PROGRESS, Status.COMPLETED, Status.REFUSED})


def _account(request: RightsRequest) -> User | None:
    return User.objects.filter(subject_id=request.subject_id, is_active=True).first()


def recipient(request: RightsRequest) -> str | None:
    """Where to write: the address kept for the message confirming an erasure, else the account's address,
    else the one given for this request; None if erased."""
    from raksa.rights import notices
    from raksa.vault.openers import Opener

    kept = notices.address(request)
    if kept:
        return kept
    account = User.objects.filter(subject_id=request.subject_id).first()
    if account is not None:
        return addresses.open_for_mailer(account)
    value = Opener.for_system("mailer").open(request.contact_email)
    return value if isinstance(value, str) and value else None


def send(request: RightsRequest, kind: str, *, address: str | None = None) -> bool:
    """One step's message; False when there is nobody to write to (no address, or it was erased)."""
    from raksa.rights.actions import EXTENSION_REASONS, REFUSAL_REASONS

    if kind not in KINDS:
        raise ValueError(f"unknown mail kind {kind!r}")
    address = address or recipient(request)
    if not address:
        return False
    with translation.override(request.language):
        link = ""
        if request.origin and kind != ERASED and _account(request) is not None:
            link = request.origin.rstrip("/") + reverse("rights:request", args=[request.id])
        context = {
            "case": request,
            "kind": kind,
            "link": link,
            "refusal_reason": str(REFUSAL_REASONS.get(request.refusal_reason, "")),
            "extension_reason": str(EXTENSION_REASONS.get(request.extension_reason, "")),
        }
        subject = render_to_string("rights/mail/subject.txt", context).strip()
        body = render_to_string(f"rights/mail/{kind}.txt", context)
    EmailMessage(subject=subject, body=body, to=[address]).send()
    return True
