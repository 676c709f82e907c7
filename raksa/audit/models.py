"""The audit log: append-only entries, chained by one sequencer, anchored by signed checkpoints.

Entries name people only by subject ID and user ID and fields only by name, never by value, so
erasing a person (destroying their keys) never needs to edit the log. The database refuses UPDATE
and DELETE on these tables (triggers, see migrations/0005_chain_links.py): an entry is written once
and never touched again; the sequencer chains it by inserting its link, which is never touched either.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Outcome(models.TextChoices):
    ALLOWED = "allowed", _("allowed")
    DENIED = "denied", _("denied")
    FAILED = "failed", _("failed")


# Columns that make up an entry's content (everything but its insertion id), in the order of its
# canonical form.
CONTENT_COLUMNS = (
    "time",
    "actor_id",
    "role",
    "agency_id",
    "subject_id",
    "action",
    "object_type",
    "object_id",
    "fields",
    "purpose",
    "legal_basis",
    "request_id",
    "outcome",
)


class AuditEntry(models.Model):
    # The foreign keys carry no database constraint and never cascade: the log outlives accounts,
    # agencies and subjects, and a deleted one must not be able to delete or rewrite its entries.
    time = models.DateTimeField(_("time"), default=timezone.now)
    actor = models.ForeignKey(
        "accounts.User",
        verbose_name=_("actor"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The account that acted; empty for the system or an anonymous visitor."),
    )
    role = models.CharField(_("actor's role"), max_length=20, blank=True)
    agency = models.ForeignKey(
        "organisations.Agency",
        verbose_name=_("agency"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
    )
    subject = models.ForeignKey(
        "subjects.Subject",
        verbose_name=_("data subject"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # audit_entry_subject_time serves look-ups by subject
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=64)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object ID"), max_length=64, blank=True)
    # Comma-separated field names (never values): plain text reads back byte for byte the same
    # on every database, which the canonical form needs.
    fields = models.CharField(_("fields touched"), max_length=1000, blank=True)
    purpose = models.CharField(_("purpose"), max_length=64, blank=True)
    legal_basis = models.CharField(_("legal basis"), max_length=64, blank=True)
    request_id = models.CharField(_("request ID"), max_length=64, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, default=Outcome.ALLOWED)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [
            models.Index(fields=["subject", "time"], name="audit_entry_subject_time"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(outcome__in=Outcome.values), name="audit_entry_outcome_known"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.outcome}"

    @property
    def field_names(self) -> list[str]:
        return self.fields.split(",") if self.fields else []


class AuditLink(models.Model):
    """An entry's place in the hash chain, inserted once by the sequencer after the entry committed.

    A table of its own, insert-only like the entries: chaining costs one small appended row per
    entry instead of rewriting the entry's row (a new row version and its index entries).
    """

    sequence = models.BigIntegerField(_("sequence number"), primary_key=True)
    # No database constraint (it would cost a look-up per chained entry); verify finds a link whose
    # entry is gone.
    entry = models.OneToOneField(
        AuditEntry,
        verbose_name=_("audit entry"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="link",
    )
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64)

    class Meta:
        verbose_name = _("audit chain link")
        verbose_name_plural = _("audit chain links")
        constraints = [models.CheckConstraint(condition=Q(sequence__gte=1), name="audit_link_sequence_positive")]

    def __str__(self) -> str:
        return f"#{self.sequence} entry {self.entry_id}"


class SequencerState(models.Model):
    """What the sequencer has settled (PostgreSQL): every entry id up to `settled_through` is chained
    or belonged to a transaction that rolled back. Only a shortcut for the sequencer's next start:
    if it were wrong, `raksa audit verify` would name the entries left unchained."""

    settled_through = models.BigIntegerField(_("settled through entry id"), default=0)

    class Meta:
        verbose_name = _("audit sequencer state")
        verbose_name_plural = _("audit sequencer states")

    def __str__(self) -> str:
        return f"settled through {self.settled_through}"


class AuditCheckpoint(models.Model):
    """A signed statement that the chain reached `sequence` with `hash` at `time`.

    Each is also appended to a file outside the database (RAKSA_AUDIT_CHECKPOINT_FILE), so a
    history rewritten inside the database no longer matches what the operator keeps.
    """

    sequence = models.BigIntegerField(_("sequence number"), unique=True)
    hash = models.CharField(_("hash"), max_length=64)
    time = models.DateTimeField(_("time"))
    public_key = models.CharField(_("public key"), max_length=64)
    signature = models.CharField(_("signature"), max_length=128)

    class Meta:
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")

    def __str__(self) -> str:
        return f"checkpoint #{self.sequence}"


class ViewingHold(models.Model):
    """A lawful investigation's hold: reads of one subject's data by one agency in a time range stay
    hidden from that person's "who looked at my data" page until a date, then appear (as Estonia's
    Data Tracker does). The entries themselves are never touched."""

    subject = models.ForeignKey(
        "subjects.Subject", verbose_name=_("data subject"), on_delete=models.PROTECT, related_name="+"
    )
    agency = models.ForeignKey(
        "organisations.Agency", verbose_name=_("agency"), on_delete=models.PROTECT, related_name="+"
    )
    covers_from = models.DateTimeField(_("hides reads from"))
    covers_until = models.DateTimeField(_("hides reads until"))
    hidden_until = models.DateTimeField(_("hidden until"))
    # The legal reference (order number, case file), never a description of the person.
    reference = models.CharField(_("legal reference"), max_length=200)
    placed_by = models.ForeignKey(
        "accounts.User", verbose_name=_("placed by"), on_delete=models.PROTECT, related_name="+"
    )
    placed_at = models.DateTimeField(_("placed at"), default=timezone.now)

    class Meta:
        verbose_name = _("viewing hold")
        verbose_name_plural = _("viewing holds")
        indexes = [models.Index(fields=["subject", "hidden_until"], name="audit_hold_subject_until")]
        constraints = [
            models.CheckConstraint(condition=Q(covers_from__lte=models.F("covers_until")), name="audit_hold_range"),
        ]

    def __str__(self) -> str:
        return f"hold {self.pk} until {self.hidden_until:%Y-%m-%d}"
