from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.functional import cached_property
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from raksa.organisations.models import Agency, StaffMembership
from raksa.registry import SERVICE_RECORD, Category, registry
from raksa.services.columns import COLLECTABLE
from raksa.vault.fields import EncryptedField
from raksa.vault.models import VaultModel

# A registration's values are declared under SERVICE_RECORD (personal_data.py): no service may
# keep them longer than that class allows after the case closes.
MAX_RETENTION_DAYS = SERVICE_RECORD.period_days or 0


class Kind(models.TextChoices):
    SERVICE = "service", _("E-service")
    ACTIVITY = "activity", _("Activity")


class Service(models.Model):
    """An e-service request (a certificate, a complaint) or an activity (an event with seats).

    What it collects is in its `ServiceField` rows, chosen from the registry's categories; the notice
    at collection and the registration form are generated from them.
    """

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="services")
    slug = models.SlugField(unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.SERVICE)
    title_th = models.CharField(_("title in Thai"), max_length=200)
    title_en = models.CharField(_("title in English"), max_length=200)
    description_th = models.TextField(_("description in Thai"), blank=True)
    description_en = models.TextField(_("description in English"), blank=True)
    is_open = models.BooleanField(_("open for registration"), default=True)
    retention_days = models.PositiveIntegerField(
        _("days kept after the case closes"),
        default=MAX_RETENTION_DAYS,
        help_text=_("The values a person gave are erased this many days after the case is closed."),
        validators=[
            MinValueValidator(
                1, message=_("A service keeps what people gave for at least one day after the case closes.")
            )
        ],
    )
    officers = models.ManyToManyField(
        StaffMembership, verbose_name=_("assigned officers"), related_name="assigned_services", blank=True
    )
    starts_at = models.DateTimeField(_("starts"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True)
    place_th = models.CharField(_("place in Thai"), max_length=200, blank=True)
    place_en = models.CharField(_("place in English"), max_length=200, blank=True)
    capacity = models.PositiveIntegerField(_("seats"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["agency_id", "title_th"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="service") | Q(starts_at__isnull=False, ends_at__isnull=False, capacity__isnull=False),
                name="activity_has_time_and_seats",
            ),
            models.CheckConstraint(condition=Q(retention_days__lte=MAX_RETENTION_DAYS), name="retention_within_class"),
            models.CheckConstraint(condition=Q(retention_days__gte=1), name="retention_at_least_a_day"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_activity(self) -> bool:
        return self.kind == Kind.ACTIVITY

    # Kept for the instance's life (a query's): a list of registrations shares one Service, and its
    # access policy asks both for every row.
    @cached_property
    def officer_ids(self) -> frozenset[int]:
        """Served from a prefetch of `officers` when the query made one."""
        return frozenset(officer.pk for officer in self.officers.all())

    @cached_property
    def legal_bases(self) -> dict[str, str]:
        """Each collected category's legal basis; served from a prefetch of `fields` when made."""
        return {field.category: field.legal_basis for field in self.fields.all()}

    @property
    def title(self) -> str:
        return self.title_en if get_language() == "en" and self.title_en else self.title_th

    @property
    def description(self) -> str:
        return self.description_en if get_language() == "en" and self.description_en else self.description_th

    @property
    def place(self) -> str:
        return self.place_en if get_language() == "en" and self.place_en else self.place_th


class ServiceField(models.Model):
    """One category of personal data a service asks for, with why, on what basis, and whether required."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="fields")
    category = models.CharField(
        _("category"), max_length=40, choices=[(category.code, category.label_en) for category in COLLECTABLE]
    )
    purpose = models.CharField(_("purpose"), max_length=40)
    legal_basis = models.CharField(_("legal basis"), max_length=40)
    required = models.BooleanField(_("required"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("field asked for")
        verbose_name_plural = _("fields asked for")
        ordering = ["service_id", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["service", "category"], name="one_field_per_category")]

    def __str__(self) -> str:
        return self.category

    @property
    def registry_category(self) -> Category:
        return registry.category(self.category)


class NoticeVersion(models.Model):
    """A frozen rendering of a service's notice at collection (PDPA s23), generated from its fields.

    A new version is stored whenever the declaration changes; each registration points to the one
    the person was shown.
    """

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="notices")
    number = models.PositiveIntegerField()
    digest = models.CharField(max_length=64)
    content = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("notice at collection")
        verbose_name_plural = _("notices at collection")
        constraints = [
            models.UniqueConstraint(fields=["service", "number"], name="one_notice_number"),
            models.UniqueConstraint(fields=["service", "digest"], name="one_notice_per_content"),
        ]

    def __str__(self) -> str:
        return f"{self.service_id} v{self.number}"


class Status(models.TextChoices):
    WAITLISTED = "waitlisted", _("On the waiting list")
    RECEIVED = "received", _("Received")
    IN_PROGRESS = "in_progress", _("In progress")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


# A registration in these holds one of an activity's seats.
SEAT_STATUSES = (Status.RECEIVED, Status.IN_PROGRESS, Status.APPROVED, Status.COMPLETED)
CLOSED_STATUSES = (Status.REJECTED, Status.COMPLETED, Status.CANCELLED)
# The statuses an officer may set (waiting list and cancellation follow from seats and the person).
OFFICER_STATUSES = (Status.RECEIVED, Status.IN_PROGRESS, Status.APPROVED, Status.REJECTED, Status.COMPLETED)


class Registration(VaultModel):
    """One person's registration for a service or an activity, with the values they gave.

    Each collectable category has its own encrypted column, declared once in personal_data.py, so
    the vault and the gateway know the category of every value; a service fills only the columns
    it declares.
    """

    vault_store = "services.registration"

    # Every index of the table is written again for each row retention empties (an UPDATE rewrites
    # the row), so the foreign keys have none of their own: service and subject lead the composite
    # indexes below, and nothing looks registrations up by controller or notice (deleting one of
    # those, which PROTECT refuses while registrations point to it, may scan the table).
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="registrations", db_index=False)
    subject = models.ForeignKey("subjects.Subject", on_delete=models.PROTECT, related_name="+", db_index=False)
    controller = models.ForeignKey(
        "organisations.Controller", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    notice = models.ForeignKey(NoticeVersion, on_delete=models.PROTECT, related_name="registrations", db_index=False)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.RECEIVED)
    # The form's one-time token: a second submission of the same form finds the first registration.
    submission_key = models.UUIDField(unique=True)
    # Explicit consent (PDPA s26) given on the form for the sensitive categories it collected.
    explicit_consents = models.JSONField(default=list, blank=True)
    # The language the person registered in: their mails are written in it.
    language = models.CharField(max_length=5, default="th")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Set once the values are erased after the service's retention period.
    erased_at = models.DateTimeField(null=True, blank=True)

    name = EncryptedField(null=True, blank=True)
    gender = EncryptedField(null=True, blank=True)
    birth_date = EncryptedField(null=True, blank=True)
    national_id = EncryptedField(null=True, blank=True)
    address = EncryptedField(null=True, blank=True)
    workplace = EncryptedField(null=True, blank=True)
    phone = EncryptedField(null=True, blank=True)
    email = EncryptedField(null=True, blank=True)
    interests = EncryptedField(null=True, blank=True)
    message = EncryptedField(null=True, blank=True)
    health = EncryptedField(null=True, blank=True)
    disability = EncryptedField(null=True, blank=True)
    religion = EncryptedField(null=True, blank=True)
    criminal_record = EncryptedField(null=True, blank=True)

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        ordering = ["created_at"]
        indexes = [
            models.Index(fields=["service", "status", "created_at"], name="services_reg_queue"),
            models.Index(fields=["subject", "created_at"], name="services_reg_subject"),
            # The retention engine's look-up and batch order: closed cases, by closing time. Not limited
            # to rows whose values are still held: retention's UPDATE must change no indexed column (a
            # predicate's included), so that PostgreSQL writes the emptied row beside the old one with
            # no index entry (a HOT update, with the room the table's fillfactor leaves: migration 0004).
            models.Index(fields=["closed_at", "id"], condition=Q(closed_at__isnull=False), name="services_reg_closed"),
        ]

    def __str__(self) -> str:
        return f"registration {self.id}"

    @property
    def holds_seat(self) -> bool:
        return self.status in SEAT_STATUSES

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES

    @property
    def reference(self) -> str:
        """The short reference shown to the person and the officer (not a secret, not personal)."""
        return str(self.id).split("-")[0].upper()


class NoteKind(models.TextChoices):
    NOTE = "note", _("Internal note")
    DECISION = "decision", _("Reason given to the person")


class CaseNote(VaultModel):
    """An officer's note on a registration, or the reason for a decision that the person is shown."""

    vault_store = "services.casenote"

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(StaffMembership, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=NoteKind.choices, default=NoteKind.NOTE)
    text = EncryptedField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("case note")
        verbose_name_plural = _("case notes")
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"note {self.id}"
