"""Writes of the consent app: each one transaction, each with its audit entry."""

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from raksa import registry
from raksa.audit.actions import record
from raksa.consent import policies
from raksa.consent.models import (
    AcceptanceKind,
    Channel,
    Consent,
    ConsentAction,
    ConsentEvent,
    GivenBy,
    PolicyAcceptance,
    PolicyStatus,
    PolicyVersion,
)
from raksa.consent.purposes import consent_purposes
from raksa.consent.rendering import render_markdown
from raksa.organisations.models import Agency
from raksa.subjects.models import Subject


class PolicyFrozenError(ValueError):
    """A published policy version cannot change."""


class ConsentRefusedError(ValueError):
    """The consent cannot be recorded as asked (not a consent purpose; a minor without a guardian)."""


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
    draft = PolicyVersion.objects.filter(agency=agency, status=PolicyStatus.DRAFT).first()
    if draft is not None:
        return draft
    latest = policies.published_versions(agency).first()
    draft = PolicyVersion.objects.create(
        agency=agency,
        introduction_th=latest.introduction_th if latest else "",
        introduction_en=latest.introduction_en if latest else "",
        effective_date=timezone.localdate(),
    )
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
    actor: object = None,
) -> Consent:
    """Records a separate, explicit consent; a person under 20 needs a parent's or guardian's (PDPA s20)."""
    if purpose not in {p.code for p in consent_purposes(agency)}:
        raise ConsentRefusedError(f"{purpose!r} is not processed on consent")
    registry.usable_purpose(purpose)  # a refused purpose (marketing, D2) raises
    if minor and not guardian_consents:
        raise ConsentRefusedError("a person under 20 can consent only with a parent's or guardian's consent")
    consent, _created = Consent.objects.select_for_update().get_or_create(
        subject=subject, agency=agency, purpose=purpose
    )
    consent.granted = True
    consent.save()
    _event(consent, ConsentAction.GRANTED, channel, GivenBy.GUARDIAN if minor else GivenBy.SELF, actor)
    return consent


@transaction.atomic
def withdraw_consent(*, subject: Subject, agency: Agency, purpose: str, channel: str, actor: object = None) -> Consent:
    """Withdrawal takes effect at once: processing asks for live consent each time. The history stays."""
    consent = Consent.objects.select_for_update().get(subject=subject, agency=agency, purpose=purpose)
    if consent.granted:
        consent.granted = False
        consent.save()
        _event(consent, ConsentAction.WITHDRAWN, channel, GivenBy.SELF, actor)
    return consent


def _event(consent: Consent, action: str, channel: str, given_by: str, actor: object) -> ConsentEvent:
    if channel not in Channel.values:
        raise ValueError(f"channel must be one of {Channel.values}")
    version = policies.current_policy(consent.agency) or policies.current_platform_policy()
    event = ConsentEvent.objects.create(
        consent=consent, action=action, policy_version=version, channel=channel, given_by=given_by
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


def has_live_consent(*, subject: Subject, agency: Agency, purpose: str) -> bool:
    """What processing asks, every time, right before it acts on consent."""
    return Consent.objects.filter(subject=subject, agency=agency, purpose=purpose, granted=True).exists()
