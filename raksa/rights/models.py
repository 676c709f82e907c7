from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from raksa.vault.fields import EncryptedField
from raksa.vault.models import VaultModel


class RequestType(models.TextChoices):
    # These codes are the API's contract (issue 11): never rename them.
    ACCESS = "access", _("access to my data")
    RECTIFICATION = "rectification", _("correction")
    ERASURE = "erasure", _("erasure")
    RESTRICTION = "restriction", _("restriction of processing")
    OBJECTION = "objection", _("objection")
    CONSENT_WITHDRAWAL = "consent_withdrawal", _("withdrawal of consent")


class Status(models.TextChoices):
    # A context of its own: consent's "received" is a date ("received on").
    RECEIVED = "received", pgettext_lazy("request status", "received")
    IN_PROGRESS = "in_progress", _("in progress")
    FAILED = "failed", _("a step failed")
    COMPLETED = "completed", _("completed")
    REFUSED = "refused", _("refused")


CLOSED = (Status.COMPLETED, Status.REFUSED)


class IdentityMethod(models.TextChoices):
    """How the person was shown to be who they say (R1); never the document's number itself."""

    REAUTHENTICATION = "reauthentication", _("password entered again when filing")
    ID_CARD = "id_card", _("Thai national ID card, checked in person by an officer")
    PASSPORT = "passport", _("passport, checked in person by an officer")
    OFFICIAL_DOCUMENT = "official_document", _("another official document, checked in person by an officer")


class Step(models.TextChoices):
    """What a history entry records besides a change of status."""

    STATUS = "status", _("status changed")
    ASSIGNED = "assigned", _("assigned to an officer")
    IDENTITY_VERIFIED = "identity_verified", _("identity verified")
    EXTENDED = "extended", _("due date extended")
    RECTIFIED = "rectified", _("correction applied")
    MAIL_FAILED = "mail_failed", _("the message to the person could not be sent")
    MAIL_SENT = "mail_sent", _("the message to the person was sent again")
    LINKED = "linked", _("linked to the records of a person already known")
    LIMITED = "limited", _("processing stopped for the purposes asked")
    LIFTED = "lifted", _("the restriction was lifted")


class RightsRequest(VaultModel):
    """A data-subject request handled as a case, with its legal deadline."""

    vault_store = "rights.request"

    type = models.CharField(_("type"), max_length=20, choices=RequestType.choices)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.RECEIVED)
    details = EncryptedField(_("details"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"))
    due_date = models.DateField(_("due date"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Codes only: the legal reason of a refusal (see raksa.rights.refusals), an error's class name.
    refusal_reason = models.CharField(_("legal reason of the refusal"), max_length=40, blank=True)
    last_error = models.CharField(_("last error"), max_length=100, blank=True)
    # The kind of the step's message that could not be sent (raksa.rights.mail), until staff send it again.
    unsent_mail = models.CharField(max_length=20, blank=True)
    # How the person proved who they are, by whom and when (R1): a code, never a document number.
    identity_method = models.CharField(
        _("identity verified by"), max_length=20, choices=IdentityMethod.choices, blank=True
    )
    identity_verified_at = models.DateTimeField(_("identity verified"), null=True, blank=True)
    identity_verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    extension_reason = models.CharField(_("reason for the extension"), max_length=40, blank=True)
    # Where to write at each step: the language the person used, the site they filed on (for the link),
    # and an address for a person without an account (a walk-in or paper request).
    language = models.CharField(max_length=8, default="th")
    origin = models.CharField(max_length=200, blank=True)
    contact_email = EncryptedField(_("e-mail address for replies"), null=True, blank=True)

    class Meta:
        verbose_name = _("rights request")
        verbose_name_plural = _("rights requests")
        indexes = [models.Index(fields=["status", "due_date"]), models.Index(fields=["subject", "-received_at"])]

    def __str__(self) -> str:
        return f"{self.type} request {self.id}"


class RequestEvent(models.Model):
    """One step in a request's status history."""

    request = models.ForeignKey(RightsRequest, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=12, choices=Status.choices)
    step = models.CharField(max_length=20, choices=Step.choices, default=Step.STATUS)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.request_id} {self.status}"


class ExportFormat(models.TextChoices):
    JSON = "json", _("JSON (machine-readable)")
    HTML = "html", _("web page (readable)")
    PDF = "pdf", _("PDF document (readable, printable)")


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("waiting")
    RUNNING = "running", _("being prepared")
    READY = "ready", _("ready to download")
    FAILED = "failed", _("failed")
    DOWNLOADED = "downloaded", _("downloaded")
    EXPIRED = "expired", _("expired unused")


class Export(VaultModel):
    """One download of the person's data, produced in the background; its link works once and expires."""

    vault_store = "rights.export"

    format = models.CharField(_("format"), max_length=8, choices=ExportFormat.choices)
    language = models.CharField(_("language"), max_length=8)
    status = models.CharField(_("status"), max_length=12, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (percent)"), default=0)
    content = EncryptedField(_("content"), null=True, blank=True)
    # SHA-256 of the download link's token; the token itself is shown once, on the person's own page.
    token_digest = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    downloaded_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = _("data export")
        verbose_name_plural = _("data exports")
        indexes = [models.Index(fields=["subject", "-created_at"])]

    def __str__(self) -> str:
        return f"export {self.id}"


class ErasureNotice(VaultModel):
    """The address a closed account's last message ("your data has been erased") goes to. Sealed under a key
    of its own class (erasure_notice) just before erasure, which keeps that class; the key is destroyed as
    soon as the message is sent, or by the retention engine after the class's period if it never could be."""

    vault_store = "rights.erasure_notice"

    request = models.OneToOneField(RightsRequest, on_delete=models.CASCADE, related_name="erasure_notice")
    email = EncryptedField(_("e-mail address for the last message"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("address kept to confirm an erasure")
        verbose_name_plural = _("addresses kept to confirm an erasure")

    def __str__(self) -> str:
        return f"erasure notice {self.id}"
