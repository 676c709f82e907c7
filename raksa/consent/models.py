"""Policy versions and their acceptances, consents with their history, consent-based mailings."""

import uuid
from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from raksa import registry
from raksa.vault.fields import EncryptedField
from raksa.vault.models import VaultModel


class PolicyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class PolicyVersion(models.Model):
    """One version of a privacy policy: the platform's (no agency) or one agency's (V1).

    A draft holds the hand-written parts; publishing (raksa.consent.actions.publish_policy_version)
    generates the processing sections from the registry and the configuration and freezes the whole
    text, its rendering and what it covers. A published version is never edited again.
    """

    agency = models.ForeignKey(
        "organisations.Agency",
        verbose_name=_("agency"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="policy_versions",
        help_text=_("Empty for the platform's own policy."),
    )
    number = models.PositiveIntegerField(_("version"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=PolicyStatus.choices, default=PolicyStatus.DRAFT)
    introduction_th = models.TextField(_("introduction in Thai (Markdown)"), blank=True)
    introduction_en = models.TextField(_("introduction in English (Markdown)"), blank=True)
    summary_th = models.TextField(_("summary of changes in Thai"), blank=True)
    summary_en = models.TextField(_("summary of changes in English"), blank=True)
    effective_date = models.DateField(_("effective date"), null=True, blank=True)
    # Frozen at publication: the full text, its rendering and the processing it covers.
    markdown_th = models.TextField(blank=True, editable=False)
    markdown_en = models.TextField(blank=True, editable=False)
    html_th = models.TextField(blank=True, editable=False)
    html_en = models.TextField(blank=True, editable=False)
    coverage = models.JSONField(default=list, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    published_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="+"
    )

    class Meta:
        verbose_name = _("privacy policy version")
        verbose_name_plural = _("privacy policy versions")
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "number"], condition=Q(agency__isnull=False), name="one_number_per_agency_policy"
            ),
            models.UniqueConstraint(
                fields=["number"], condition=Q(agency__isnull=True), name="one_number_per_platform_policy"
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | (Q(number__isnull=False) & Q(published_at__isnull=False)),
                name="published_policy_has_number_and_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agency_id or 'platform'} v{self.number or 'draft'}"

    @property
    def is_published(self) -> bool:
        return self.status == PolicyStatus.PUBLISHED

    @property
    def html(self) -> str:
        return self.html_en if get_language() == "en" and self.html_en else self.html_th

    @property
    def markdown(self) -> str:
        return self.markdown_en if get_language() == "en" and self.markdown_en else self.markdown_th

    @property
    def summary(self) -> str:
        return self.summary_en if get_language() == "en" and self.summary_en else self.summary_th


class Channel(models.TextChoices):
    WEB = "web", _("website")
    APP = "app", _("application")


class AcceptanceKind(models.TextChoices):
    ACCEPTED = "accepted", _("accepted (at sign-up)")
    READ_CHANGES = "read_changes", _("read the summary of changes")


class PolicyAcceptance(models.Model):
    """A person accepted (or read the changes of) one frozen policy version."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subject = models.ForeignKey("subjects.Subject", on_delete=models.PROTECT, related_name="policy_acceptances")
    version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="acceptances")
    kind = models.CharField(max_length=20, choices=AcceptanceKind.choices)
    channel = models.CharField(max_length=3, choices=Channel.choices)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("policy acceptance")
        verbose_name_plural = _("policy acceptances")
        indexes = [models.Index(fields=["subject", "-at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.version_id}"


class GivenBy(models.TextChoices):
    SELF = "self", _("the person")
    GUARDIAN = "guardian", _("a parent or guardian (the person is under 20)")


class ConsentAction(models.TextChoices):
    GRANTED = "granted", _("granted")
    WITHDRAWN = "withdrawn", _("withdrawn")


class Consent(models.Model):
    """The live state of one person's consent to one agency (or to one of its recipients) for one purpose;
    its history is ConsentEvent.

    For purposes delivered by e-mail (news, surveys) it holds the address the person gave for them,
    sealed by the vault and cleared when the consent is withdrawn.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subject = models.ForeignKey("subjects.Subject", on_delete=models.PROTECT, related_name="consents")
    agency = models.ForeignKey("organisations.Agency", on_delete=models.PROTECT, related_name="consents")
    # The agency's controller: the legal person the consent is given to, whose keys seal the address.
    controller = models.ForeignKey("organisations.Controller", on_delete=models.PROTECT, related_name="+")
    purpose = models.CharField(_("purpose"), max_length=64)
    # Empty for the agency itself; otherwise the one recipient this consent lets the agency disclose
    # to for the purpose (raksa.consent.recipients), e.g. "disclosures.recipient:12".
    recipient = models.CharField(_("recipient"), max_length=100, blank=True, default="")
    granted = models.BooleanField(_("granted"), default=False)
    # For a recipient: the registry category codes the person was shown it would receive when they
    # granted (PDPA s19: informed, specific). A disclosure on this consent may send only these, even
    # after the register widens the recipient's fields. Empty for the agency itself and once withdrawn.
    categories = models.JSONField(_("categories it covers"), default=list, blank=True)
    email = EncryptedField(_("e-mail address for this purpose"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    vault_store = "consent.consent"
    vault_subject_field = "subject"
    vault_controller_field = "controller"

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.UniqueConstraint(
                fields=["subject", "agency", "purpose", "recipient"], name="one_consent_per_purpose_and_recipient"
            ),
        ]
        indexes = [models.Index(fields=["agency", "purpose", "granted"])]

    def __str__(self) -> str:
        return f"{self.purpose} {'granted' if self.granted else 'not granted'}"

    @property
    def category_labels(self) -> list[str]:
        return category_labels(self.categories)


class ConsentEvent(models.Model):
    """One grant or withdrawal, kept as evidence (PDPA s19): who, what, under which policy, when, how."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=10, choices=ConsentAction.choices)
    policy_version = models.ForeignKey(
        PolicyVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="consent_events"
    )
    channel = models.CharField(max_length=3, choices=Channel.choices)
    given_by = models.CharField(max_length=10, choices=GivenBy.choices, default=GivenBy.SELF)
    # A grant to a recipient: the category codes the person was shown. Null otherwise, and for grants
    # recorded before this was kept (their consents cover nothing until the person consents again).
    categories = models.JSONField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("consent event")
        verbose_name_plural = _("consent events")
        ordering = ["at"]

    def __str__(self) -> str:
        return f"{self.action} {self.at:%Y-%m-%d}"

    @property
    def category_labels(self) -> list[str]:
        return category_labels(self.categories or [])


def category_labels(codes: list[str]) -> list[str]:
    """Registry category codes as the person reads them; a code the registry no longer has, as it is."""
    known = {category.code: category for category in registry.categories()}
    return [known[code].label if code in known else code for code in codes]


class Mailing(models.Model):
    """A message to everyone whose consent for a purpose is live when it is sent (U1)."""

    agency = models.ForeignKey("organisations.Agency", on_delete=models.PROTECT, related_name="mailings")
    purpose = models.CharField(max_length=64)
    title_th = models.CharField(max_length=200)
    title_en = models.CharField(max_length=200, blank=True)
    body_th = models.TextField()
    body_en = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("mailing")
        verbose_name_plural = _("mailings")

    def __str__(self) -> str:
        return self.title_th


class InquiryKind(models.TextChoices):
    QUESTION = "question", _("Question")
    SUGGESTION = "suggestion", _("Suggestion")
    COMPLAINT = "complaint", _("Complaint")


class InquiryStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    ANSWERED = "answered", _("Answered")


# The DPO answers within the 30 days PDPA s30 gives a request to see one's data: the same promise of speed.
INQUIRY_ANSWER_PERIOD = timedelta(days=30)


class Inquiry(VaultModel):
    """A question, suggestion or complaint about the policy, sent to an agency's DPO (V2)."""

    vault_store = "consent.inquiry"

    agency = models.ForeignKey("organisations.Agency", on_delete=models.PROTECT, related_name="inquiries")
    reference = models.CharField(_("reference number"), max_length=20, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=InquiryKind.choices)
    status = models.CharField(_("status"), max_length=10, choices=InquiryStatus.choices, default=InquiryStatus.RECEIVED)
    name = EncryptedField(_("name"))
    email = EncryptedField(_("e-mail address"))
    message = EncryptedField(_("message"))
    answer = EncryptedField(_("answer"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    answered_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # The language the sender wrote in: the receipt and the answer are mailed in it.
    language = models.CharField(_("language"), max_length=2, choices=settings.LANGUAGES, default="th")

    class Meta:
        verbose_name = _("question to the DPO")
        verbose_name_plural = _("questions to the DPO")
        indexes = [models.Index(fields=["agency", "status", "received_at"])]

    def __str__(self) -> str:
        return self.reference

    @property
    def due_date(self) -> date:
        return timezone.localdate(self.received_at) + INQUIRY_ANSWER_PERIOD

    @property
    def overdue(self) -> bool:
        return self.status == InquiryStatus.RECEIVED and timezone.localdate() > self.due_date
