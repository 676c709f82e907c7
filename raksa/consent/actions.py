"""Writes of the consent app: each one transaction, each with its audit entry."""

import secrets
from collections.abc import Sequence

from django.core import mail
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Max, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from raksa import registry
from raksa.audit.actions import record
from raksa.consent import policies, recipients, tasks
from raksa.consent.models import (
    AcceptanceKind,
    Channel,
    Consent,
    ConsentAction,
    ConsentEvent,
    GivenBy,
    Inquiry,
    InquiryStatus,
    Mailing,
    PolicyAcceptance,
    PolicyStatus,
    PolicyVersion,
)
from raksa.consent.purposes import BY_EMAIL, consent_purposes
from raksa.consent.rendering import render_markdown
from raksa.organisations.models import Agency
from raksa.subjects import limits
from raksa.subjects.actions import create_subject
from raksa.subjects.models import Subject
from raksa.vault.actions import save_sealed
from raksa.vault.keys import session
from raksa.vault.openers import Opener


class PolicyFrozenError(ValueError):
    """A published policy version cannot change."""


class ConsentRefusedError(ValueError):
    """The consent cannot be recorded as asked (not a consent purpose; a minor without a guardian)."""


class ConsentOutdatedError(ConsentRefusedError):
    """The person was shown other categories than the recipient receives now: they must look again."""


# Policy versions ------------------------------------------------------------------------------------
def _record_policy(action: str, version: PolicyVersion, actor: object) -> None:
    record(
        action=action,
        actor=actor,
        role="dpo",
        agency_id=version.agency_id,
        object_type="consent.policyversion",
        object_id=version.pk,
    )


@transaction.atomic
def start_policy_draft(*, agency: Agency | None, actor: object) -> PolicyVersion:
    """The open draft of this policy, or a new one starting from the text in force."""
    draft = policies.open_draft(agency)
    if draft is not None:
        return draft
    draft = policies.new_draft(agency)
    draft.save()
    _record_policy("consent.policy_draft_started", draft, actor)
    return draft


@transaction.atomic
def save_policy_draft(
    *,
    version: PolicyVersion,
    actor: object,
    introduction_th: str,
    introduction_en: str,
    summary_th: str,
    summary_en: str,
    effective_date: object,
) -> PolicyVersion:
    version = PolicyVersion.objects.select_for_update().get(pk=version.pk)
    if version.is_published:
        raise PolicyFrozenError("a published policy version is frozen")
    version.introduction_th = introduction_th
    version.introduction_en = introduction_en
    version.summary_th = summary_th
    version.summary_en = summary_en
    version.effective_date = effective_date  # type: ignore[assignment]
    version.save()
    _record_policy("consent.policy_draft_saved", version, actor)
    return version


@transaction.atomic
def publish_policy_version(*, version: PolicyVersion, actor: object) -> PolicyVersion:
    """Generates the processing sections from what the software does now and freezes everything."""
    version = PolicyVersion.objects.select_for_update().get(pk=version.pk)
    if version.is_published:
        raise PolicyFrozenError("this policy version is already published")
    if not version.effective_date:
        version.effective_date = timezone.localdate()
    agency = version.agency
    items = policies.processing_for(agency)
    version.markdown_th = policies.generate_markdown(agency, version.introduction_th, "th", items)
    version.markdown_en = policies.generate_markdown(agency, version.introduction_en, "en", items)
    version.html_th = render_markdown(version.markdown_th)
    version.html_en = render_markdown(version.markdown_en)
    version.coverage = policies.coverage_json(items)
    latest = PolicyVersion.objects.filter(agency=agency, status=PolicyStatus.PUBLISHED).aggregate(Max("number"))
    version.number = (latest["number__max"] or 0) + 1
    version.status = PolicyStatus.PUBLISHED
    version.published_at = timezone.now()
    version.published_by = actor if getattr(actor, "is_authenticated", False) else None  # type: ignore[assignment]
    version.save()
    _record_policy("consent.policy_published", version, actor)
    return version


@transaction.atomic
def accept_policy(
    *, subject: Subject, version: PolicyVersion, channel: str = Channel.WEB, kind: str = AcceptanceKind.ACCEPTED
) -> PolicyAcceptance:
    """Records that the person accepted (at sign-up) or read the changes of this frozen version."""
    if not version.is_published:
        raise PolicyFrozenError("only a published policy version can be accepted")
    acceptance = PolicyAcceptance.objects.create(subject=subject, version=version, kind=kind, channel=channel)
    record(
        action=f"consent.policy_{kind}",
        actor=getattr(subject, "account", None),
        subject_id=subject.pk,
        agency_id=version.agency_id,
        object_type="consent.policyversion",
        object_id=version.pk,
    )
    return acceptance


# Consents --------------------------------------------------------------------------------------------
@transaction.atomic
def grant_consent(
    *,
    subject: Subject,
    agency: Agency,
    purpose: str,
    channel: str,
    minor: bool,
    guardian_consents: bool = False,
    email: str = "",
    recipient: str = "",
    shown: Sequence[str] | None = None,
    actor: object = None,
) -> Consent:
    """Records a separate, explicit consent; a person under 20 needs a parent's or guardian's (PDPA s20).

    For a purpose delivered by e-mail, `email` is where to send it; it is sealed by the vault. With a
    `recipient` (a key from raksa.consent.recipients) the consent is to disclosure to that recipient
    only, for that purpose, and covers the categories it receives now (PDPA s19): `shown` are the
    category codes the person was shown, refused (ConsentOutdatedError) unless they are exactly those;
    None when the caller shows the register as it is now (the API lists it live).
    """
    covers: list[str] = []
    if recipient:
        offer = recipients.offered(agency, recipient, purpose)
        if offer is None:
            raise ConsentRefusedError("this recipient is not one a person may consent to for this purpose")
        if shown is not None and set(shown) != set(offer.categories):
            raise ConsentOutdatedError("the person was shown other categories than the recipient receives now")
        covers = list(offer.categories)
    elif purpose not in {p.code for p in consent_purposes(agency)}:
        raise ConsentRefusedError(f"{purpose!r} is not processed on consent")
    registry.usable_purpose(purpose)  # a refused purpose (marketing, D2) raises
    if minor and not guardian_consents:
        raise ConsentRefusedError("a person under 20 can consent only with a parent's or guardian's consent")
    if (purpose in BY_EMAIL and not recipient) != bool(email):
        raise ConsentRefusedError("an e-mail address is needed for, and only for, a purpose delivered by e-mail")
    consent, _created = Consent.objects.select_for_update().get_or_create(
        subject=subject,
        agency=agency,
        purpose=purpose,
        recipient=recipient,
        defaults={"controller_id": agency.controller_id},
    )
    consent.granted = True
    consent.email = email or None
    consent.categories = covers
    consent.save()
    given_by = GivenBy.GUARDIAN if minor else GivenBy.SELF
    _event(consent, ConsentAction.GRANTED, channel, given_by, actor, categories=covers if recipient else None)
    return consent


@transaction.atomic
def withdraw_consent(
    *, subject: Subject, agency: Agency, purpose: str, channel: str, recipient: str = "", actor: object = None
) -> Consent:
    """Withdrawal takes effect at once: processing asks for live consent each time. The history stays."""
    consent = Consent.objects.select_for_update().get(
        subject=subject, agency=agency, purpose=purpose, recipient=recipient
    )
    if consent.granted:
        consent.granted = False
        # The address was given for this purpose only: it goes with the consent.
        consent.email = None
        consent.categories = []
        consent.save()
        _event(consent, ConsentAction.WITHDRAWN, channel, GivenBy.SELF, actor)
    return consent


def _event(
    consent: Consent, action: str, channel: str, given_by: str, actor: object, categories: list[str] | None = None
) -> ConsentEvent:
    if channel not in Channel.values:
        raise ValueError(f"channel must be one of {Channel.values}")
    version = policies.current_policy(consent.agency) or policies.current_platform_policy()
    event = ConsentEvent.objects.create(
        consent=consent,
        action=action,
        policy_version=version,
        channel=channel,
        given_by=given_by,
        categories=categories,
    )
    record(
        action=f"consent.{action}",
        actor=actor,
        subject_id=consent.subject_id,
        agency_id=consent.agency_id,
        object_type="consent.consent",
        object_id=consent.pk,
        purpose=consent.purpose,
        legal_basis=registry.CONSENT.code,
    )
    return event


def has_live_consent(*, subject: Subject, agency: Agency, purpose: str, recipient: str = "") -> bool:
    """What processing asks, every time, right before it acts on consent.

    With a `recipient`, only a consent to that recipient counts; the agency's own consent does not.
    """
    return _live_consents(subject=subject, agency=agency, purpose=purpose, recipient=recipient).exists()


def consented_categories(*, subject: Subject, agency: Agency, purpose: str, recipient: str) -> frozenset[str] | None:
    """The category codes a live consent to this recipient covers (what the person was shown), or None
    without a live consent; asked right before a disclosure on consent."""
    found = _live_consents(subject=subject, agency=agency, purpose=purpose, recipient=recipient)
    covers = found.values_list("categories", flat=True).first()
    return None if covers is None else frozenset(covers)


def _live_consents(*, purpose: str, **scope: object) -> QuerySet[Consent]:
    """Granted consents of people who have not restricted this processing nor objected to it (PDPA s32,
    s34): a restriction stops what a consent allowed until it is lifted."""
    return Consent.objects.filter(purpose=purpose, granted=True, **scope).exclude(
        subject_id__in=limits.limited_subjects(purpose)
    )


# Mailings (U1) ---------------------------------------------------------------------------------------
@transaction.atomic
def create_mailing(
    *, agency: Agency, purpose: str, title_th: str, body_th: str, title_en: str = "", body_en: str = "", actor: object
) -> Mailing:
    """A mailing for a purpose delivered by e-mail; sent by a task to whoever consents at send time."""
    if purpose not in BY_EMAIL:
        raise ConsentRefusedError(f"{purpose!r} is not a purpose delivered by e-mail")
    registry.usable_purpose(purpose)
    mailing = Mailing.objects.create(
        agency=agency, purpose=purpose, title_th=title_th, title_en=title_en, body_th=body_th, body_en=body_en
    )
    record(
        action="consent.mailing_created",
        actor=actor,
        agency_id=agency.pk,
        object_type="consent.mailing",
        object_id=mailing.pk,
        purpose=purpose,
    )
    transaction.on_commit(lambda: tasks.send_mailing.enqueue(mailing_id=mailing.pk))
    return mailing


def deliver_mailing(*, mailing: Mailing) -> int:
    """Sends the mailing to each person whose consent is live at the moment their message goes out.

    The list is read when sending starts, and each consent is read again right before its message,
    so a withdrawal during a long mailing still stops the next message. Returns the number sent.
    """
    if mailing.sent_at is not None:
        return mailing.recipients
    opener = Opener.for_system("mailer")
    sent = 0
    with session(), mail.mailers.default as connection:
        for consent_id in _live_consents(agency=mailing.agency, purpose=mailing.purpose, recipient="").values_list(
            "pk", flat=True
        ):
            consent = _live_consents(pk=consent_id, purpose=mailing.purpose).first()
            address = opener.open_field(consent, "email") if consent else None
            if not isinstance(address, str) or not address:
                continue
            connection.send_messages([_mailing_message(mailing, address)])
            sent += 1
    with transaction.atomic():
        Mailing.objects.filter(pk=mailing.pk).update(sent_at=timezone.now(), recipients=sent)
        record(
            action="consent.mailing_sent",
            agency_id=mailing.agency_id,
            object_type="consent.mailing",
            object_id=mailing.pk,
            purpose=mailing.purpose,
            legal_basis=registry.CONSENT.code,
        )
    return sent


def _mailing_message(mailing: Mailing, address: str) -> EmailMessage:
    with translation.override("th"):
        consents_url = reverse("consent:consents")
    footer = (
        f"\n\n--\nท่านได้รับอีเมลนี้เพราะให้ความยินยอมไว้ ถอนความยินยอมได้ทุกเมื่อที่ {consents_url}"
        f"\nYou receive this because you consented; withdraw at any time at {consents_url}"
    )
    title = mailing.title_th + (f" / {mailing.title_en}" if mailing.title_en else "")
    body = mailing.body_th + (f"\n\n{mailing.body_en}" if mailing.body_en else "") + footer
    return EmailMessage(subject=title, body=body, to=[address])


# Questions to the DPO (V2) ---------------------------------------------------------------------------
# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: a reference read out over the phone is not mistaken.
_REFERENCE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"


def _new_reference() -> str:
    year = timezone.localdate().year + 543  # the Buddhist Era year, as Thai offices number their papers
    while True:
        reference = f"DPO-{year}-{''.join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(6))}"
        if not Inquiry.objects.filter(reference=reference).exists():
            return reference


@transaction.atomic
def submit_inquiry(
    *, agency: Agency, kind: str, name: str, email: str, message: str, subject: Subject | None, language: str
) -> Inquiry:
    """Files a question, suggestion or complaint for the agency's DPO; the sender gets its reference by e-mail.

    A sender without an account becomes a subject of their own: the inquiry is their personal data.
    """
    sender = subject or create_subject()
    inquiry = Inquiry(
        subject=sender,
        controller_id=agency.controller_id,
        agency=agency,
        kind=kind,
        reference=_new_reference(),
        language=language,
    )
    inquiry.name, inquiry.email, inquiry.message = name, email, message
    save_sealed(inquiry)  # with the address's blind index: the DPO can find whom a disclosure is about
    record(
        action="consent.inquiry_received",
        actor=getattr(subject, "account", None),
        subject_id=sender.pk,
        agency_id=agency.pk,
        object_type="consent.inquiry",
        object_id=inquiry.pk,
        fields=("name", "email", "message"),
        purpose=registry.RIGHTS_REQUESTS.code,
        legal_basis=registry.PUBLIC_TASK.code,
    )
    transaction.on_commit(lambda: tasks.send_inquiry_receipt.enqueue(inquiry_id=str(inquiry.pk), language=language))
    return inquiry


@transaction.atomic
def answer_inquiry(*, inquiry: Inquiry, answer: str, actor: object) -> Inquiry:
    """Stores the DPO's answer and e-mails it in the sender's language; if the mail cannot be sent, nothing is
    recorded as answered."""
    inquiry = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
    if inquiry.status == InquiryStatus.ANSWERED:
        raise ValueError("this inquiry is already answered")
    inquiry.answer = answer
    inquiry.status = InquiryStatus.ANSWERED
    inquiry.answered_at = timezone.now()
    inquiry.answered_by_id = getattr(actor, "pk", None)
    inquiry.save()
    record(
        action="consent.inquiry_answered",
        actor=actor,
        role="dpo",
        subject_id=inquiry.subject_id,
        agency_id=inquiry.agency_id,
        object_type="consent.inquiry",
        object_id=inquiry.pk,
        fields=("answer",),
        purpose=registry.RIGHTS_REQUESTS.code,
        legal_basis=registry.PUBLIC_TASK.code,
    )
    # Sent here, not queued: the answer is personal data, and task arguments are stored in plaintext.
    send_inquiry_mail(inquiry=inquiry, kind="answer", language=inquiry.language, answer=answer)
    return inquiry


def send_inquiry_mail(*, inquiry: Inquiry, kind: str, language: str, answer: str = "") -> bool:
    """The receipt or the answer, to the address the sender gave; False if it has been erased."""
    opened = Opener.for_system("mailer").open_many([inquiry], ["name", "email"])[0]
    name, address = opened["name"], opened["email"]
    if not isinstance(address, str) or not address:
        return False
    with translation.override(language):
        context = {"inquiry": inquiry, "name": name if isinstance(name, str) else "", "answer": answer}
        subject_line = render_to_string(f"consent/mail/inquiry_{kind}_subject.txt", context).strip()
        body = render_to_string(f"consent/mail/inquiry_{kind}.txt", context)
    EmailMessage(subject=subject_line, body=body, to=[address]).send()
    return True
