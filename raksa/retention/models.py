"""Legal holds: what they cover (a person, a case, a service, a time range) is kept past its period."""

import datetime
import struct
import uuid
from collections.abc import Iterable

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class LegalHold(models.Model):
    """Stops the retention engine from ending the records it covers until it ends.

    It covers what every one of its set scopes names: a person (subject), a case (a registration or
    a rights request, by ID), a service, and records made within a time range. It has a reason, an
    owner (the staff member answerable for it) and the date it ends by itself; ended early, it
    records by whom.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    agency = models.ForeignKey("organisations.Agency", on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"))
    owner = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    subject = models.ForeignKey(
        "subjects.Subject", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("person")
    )
    case_id = models.UUIDField(_("case"), null=True, blank=True)
    service = models.ForeignKey(
        "services.Service", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("service")
    )
    covers_from = models.DateTimeField(_("records made from"), null=True, blank=True)
    covers_until = models.DateTimeField(_("records made until"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"))
    placed_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")
        ordering = ["-placed_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(subject__isnull=False)
                | Q(case_id__isnull=False)
                | Q(service__isnull=False)
                | Q(covers_from__isnull=False, covers_until__isnull=False),
                name="retention_hold_has_scope",
            ),
            models.CheckConstraint(
                condition=Q(covers_from__isnull=True)
                | Q(covers_until__isnull=True)
                | Q(covers_until__gt=models.F("covers_from")),
                name="retention_hold_range",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="retention_hold_has_reason"),
        ]

    def __str__(self) -> str:
        return f"legal hold {self.id}"

    @property
    def last_day_covered(self) -> datetime.date | None:
        """The last local day of the time range (the range itself ends at the next midnight)."""
        if self.covers_until is None:
            return None
        return timezone.localdate(self.covers_until - datetime.timedelta(microseconds=1))


class KeyStoreWork(models.Model):
    """What a retention batch (or an action that ends rows outside a run, with `rule` naming it:
    `destroy_unused_keys_after_commit`) still has to do in the key store once its rows have ended:
    delete the blind indexes of these rows and destroy the keys that no longer seal anything of these
    people.

    The key store is another database, so the two cannot commit together. The rows end first and this
    row commits with them; the key store's work follows (a run's after the batch, an action's in a task
    queued on its commit), and the row goes in a transaction after that. So a key is destroyed only for
    rows that really ended, and a crash in between (or a task that failed or was never queued) leaves
    this row, which the next run finishes before anything else (raksa.retention.actions). It holds
    row IDs and pseudonymous subject IDs, never a value, and lives minutes (longer only while a writer
    holds one of its people: the works that left them are then replaced by one naming only them, for the
    next run).
    """

    rule = models.CharField(max_length=60)
    # The store name the rows' blind indexes are under ("" if none of its fields is indexed).
    store = models.CharField(max_length=100, blank=True)
    # IDs as 16 bytes each, one after another: thousands of them are written and read once per batch,
    # and raw bytes cost the database no parsing and no attempt at compression (see `pack`).
    object_ids = models.BinaryField(default=b"")
    # The (subject, controller) pairs whose keys of `retention` may now be unused: the subjects as
    # 16 bytes each, and their controllers as 8-byte integers in the same order (-1: any controller).
    subjects = models.BinaryField(default=b"")
    controllers = models.BinaryField(default=b"")
    retention = models.CharField(max_length=40, blank=True)
    # The keys this work destroys are stamped with it (their `destroyed_at`): a run that finishes it after a
    # crash counts them. It is when the work was written (a work naming the people left, when the run
    # that left them ended), not when a key was destroyed, which may be a run's interval later.
    stamp = models.DateTimeField()

    def __str__(self) -> str:
        return f"key store work of {self.rule} at {self.stamp}"

    @staticmethod
    def pack(hex_ids: Iterable[str]) -> bytes:
        return bytes.fromhex("".join(hex_ids))

    @staticmethod
    def unpack(raw: bytes | memoryview) -> list[str]:
        text = bytes(raw).hex()
        return [text[at : at + 32] for at in range(0, len(text), 32)]

    def set_scopes(self, scopes: Iterable[tuple[str, int | None]]) -> None:
        pairs = list(scopes)
        self.subjects = self.pack(subject for subject, _controller in pairs)
        self.controllers = struct.pack(f">{len(pairs)}q", *(-1 if c is None else c for _subject, c in pairs))

    def scopes(self) -> list[tuple[str, int | None]]:
        controllers = struct.unpack(f">{len(self.controllers) // 8}q", bytes(self.controllers))
        return [
            (subject, None if controller == -1 else controller)
            for subject, controller in zip(self.unpack(self.subjects), controllers, strict=True)
        ]
