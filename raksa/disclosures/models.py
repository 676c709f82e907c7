"""Recipients, disclosures (the person's ledger), processor exports and the breach register."""

import uuid
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from raksa.vault.fields import EncryptedField
from raksa.vault.models import VaultModel

# PDPA s37(4): the PDPC is told of a breach within 72 hours of the controller learning of it.
PDPC_DEADLINE = timedelta(hours=72)


class RecipientKind(models.TextChoices):
    PROCESSOR = "processor", _("Processor (contractor)")
    AGENCY = "agency", _("Other state agency")
    COURT = "court", _("Court")
    AUTHORITY = "authority", _("Competent authority")


class Recipient(models.Model):
    """Someone outside the agency who may receive personal data, within a contract or agreement.

    `fields` are "app_label.model.field" references to registry declarations: exactly what the
    recipient may receive. Configuration, not personal data.
    """

    agency = models.ForeignKey("organisations.Agency", on_delete=models.PROTECT, related_name="recipients")
    slug = models.SlugField(unique=True)
    name_th = models.CharField(_("name in Thai"), max_length=200)
    name_en = models.CharField(_("name in English"), max_length=200)
    kind = models.CharField(_("type"), max_length=12, choices=RecipientKind.choices)
    contract_reference = models.CharField(_("contract or agreement reference"), max_length=100, blank=True)
    contract_expires = models.DateField(_("contract expires"), null=True, blank=True)
    purposes = models.JSONField(_("purposes (registry codes)"), default=list)
    fields = models.JSONField(_("fields it may receive (app.model.field)"), default=list)
    pseudonymised = models.BooleanField(
        _("receives pseudonymised records"),
        default=False,
        help_text=_("Statistics jobs: rows carry a pseudonym instead of the person's ID, and no direct identifiers."),
    )
    accounts = models.ManyToManyField(
        "accounts.User",
        blank=True,
        related_name="processor_for",
        verbose_name=_("contractor staff accounts"),
        help_text=_("Accounts with the contractor role that may download this processor's exports."),
    )

    class Meta:
        verbose_name = _("recipient")
        verbose_name_plural = _("recipients")
        ordering = ["agency_id", "name_th"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if get_language() == "en" else self.name_th

    @property
    def stores(self) -> list[str]:
        """The stores ("app_label.model") the contract's fields come from."""
        return sorted({ref.rpartition(".")[0] for ref in self.fields})

    def clean(self) -> None:
        from raksa.registry import registry

        known = {purpose.code: purpose for purpose in registry.purposes()}
        for code in self.purposes:
            if code not in known or known[code].refused:
                raise ValidationError(
                    {"purposes": _("%(code)s is not a purpose data may be disclosed for.") % {"code": code}}
                )
        for ref in self.fields:
            label, _dot, field = ref.rpartition(".")
            if not registry.is_declared(label, field):
                raise ValidationError({"fields": _("%(ref)s is not a declared personal field.") % {"ref": ref}})

    def contract_live(self, on: date | None = None) -> bool:
        return self.contract_expires is None or (on or timezone.localdate()) <= self.contract_expires


class Basis(models.TextChoices):
    CONSENT = "consent", _("The person's consent")
    REQUEST = "request", _("A transaction the person asked for")
    LEGAL = "legal", _("A legal duty or an order of a competent authority")
    PROCESSOR = "processor", _("A processor working for the agency under contract")


class Disclosure(VaultModel):
    """One disclosure of one person's data to one recipient: a line of the person's ledger (D1).

    The order's document is sealed by the vault (it names the person); everything else is codes.
    """

    vault_store = "disclosures.disclosure"

    agency = models.ForeignKey("organisations.Agency", on_delete=models.PROTECT, related_name="+")
    recipient = models.ForeignKey(Recipient, on_delete=models.PROTECT, related_name="disclosures")
    purpose = models.CharField(_("purpose"), max_length=64)
    basis = models.CharField(_("basis"), max_length=10, choices=Basis.choices)
    fields = models.JSONField(_("fields disclosed"), default=list)
    # (b) "services.registration:<uuid>" or "rights.request:<uuid>": the person's own transaction.
    transaction_reference = models.CharField(_("the person's request or registration"), max_length=120, blank=True)
    # (c) the legal duty or order.
    legal_reference = models.CharField(_("order or law reference"), max_length=200, blank=True)
    issuing_authority = models.CharField(_("issuing authority"), max_length=200, blank=True)
    order_date = models.DateField(_("date of the order"), null=True, blank=True)
    oia_section = models.CharField(_("Official Information Act s24 case"), max_length=10, blank=True)
    document = EncryptedField(_("the order (document, base64)"), null=True, blank=True)
    document_name = models.CharField(_("document file name"), max_length=200, blank=True)
    # A lawful hold (an investigation) keeps the line from the person until this date.
    hold_until = models.DateField(_("hidden from the person until"), null=True, blank=True)
    export = models.ForeignKey("Export", on_delete=models.PROTECT, null=True, blank=True, related_name="disclosures")
    disclosed_at = models.DateTimeField(_("disclosed"), default=timezone.now)
    disclosed_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        verbose_name = _("disclosure")
        verbose_name_plural = _("disclosures")
        indexes = [models.Index(fields=["subject", "-disclosed_at"]), models.Index(fields=["agency", "-disclosed_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(basis="request") | ~Q(transaction_reference=""), name="request_basis_has_reference"
            ),
            models.CheckConstraint(
                condition=~Q(basis="legal")
                | (~Q(legal_reference="") & ~Q(issuing_authority="") & Q(order_date__isnull=False)),
                name="legal_basis_has_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.basis} → {self.recipient_id}"

    @property
    def purpose_label(self) -> str:
        from raksa.registry import registry

        return registry.purpose(self.purpose).label

    @property
    def categories(self) -> list[str]:
        """What was disclosed, as the registry's category names ("name", "e-mail address")."""
        from raksa.registry import registry

        return [registry.declaration(*ref.rsplit(".", 1)).category.label for ref in self.fields]

    def visible_to_person(self, on: date | None = None) -> bool:
        return self.hold_until is None or (on or timezone.localdate()) >= self.hold_until


class Export(models.Model):
    """A scoped, single-use, expiring export for a processor (U3). Only the token's hash is kept."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    recipient = models.ForeignKey(Recipient, on_delete=models.PROTECT, related_name="exports")
    purpose = models.CharField(_("purpose"), max_length=64)
    store = models.CharField(_("store (app.model)"), max_length=100)
    fields = models.JSONField(_("fields"), default=list)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    expires_at = models.DateTimeField()
    downloaded_at = models.DateTimeField(null=True, blank=True)
    row_count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("processor export")
        verbose_name_plural = _("processor exports")

    def __str__(self) -> str:
        return f"export {self.id} for {self.recipient_id}"


class RiskLevel(models.TextChoices):
    LOW = "low", _("Low: no risk to rights and freedoms")
    MEDIUM = "medium", _("Risk: notify the PDPC")
    HIGH = "high", _("High risk: notify the PDPC and the people affected")


class Breach(models.Model):
    """An incident (PDPA s37(4)). Its description is written without naming anyone."""

    agency = models.ForeignKey("organisations.Agency", on_delete=models.PROTECT, related_name="breaches")
    discovered_at = models.DateTimeField(_("discovered"))
    description = models.TextField(_("what happened (name no one)"))
    categories = models.JSONField(_("affected data categories (registry codes)"), default=list)
    affected_count = models.PositiveIntegerField(_("people affected"), default=0)
    risk = models.CharField(_("risk level"), max_length=8, choices=RiskLevel.choices)
    pdpc_notified_at = models.DateTimeField(_("PDPC notified"), null=True, blank=True)
    recorded_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("breach")
        verbose_name_plural = _("breaches")
        ordering = ["-discovered_at"]

    def __str__(self) -> str:
        return f"breach {self.pk} ({self.risk})"

    @property
    def pdpc_deadline(self) -> datetime:
        return self.discovered_at + PDPC_DEADLINE

    def time_left(self, now: datetime | None = None) -> timedelta:
        """What is left of the 72 hours; negative once they are past."""
        return self.pdpc_deadline - (now or timezone.now())

    @property
    def hours_left(self) -> int:
        """Whole hours left of the 72 (rounded down); negative once they are past."""
        return int(self.time_left().total_seconds() // 3600)

    @property
    def letters_needed(self) -> bool:
        return self.risk == RiskLevel.HIGH


class BreachAction(models.Model):
    """One step on a breach's timeline."""

    breach = models.ForeignKey(Breach, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField(default=timezone.now)
    note = models.TextField(_("action taken"))
    actor = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["at"]

    def __str__(self) -> str:
        return f"{self.breach_id} @ {self.at}"
