"""Legal holds: what they cover (a person, a case, a service, a time range) is kept past its period."""

import datetime
import uuid

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
