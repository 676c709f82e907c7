import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class Subject(models.Model):
    """A data subject, with or without an account. Personal data everywhere points here.

    The ID is opaque and holds nothing about the person, so the audit log can name it forever:
    once the person's keys and indexes are destroyed, the ID is linked to nobody.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("data subject")
        verbose_name_plural = _("data subjects")

    def __str__(self) -> str:
        return str(self.id)


class LimitKind(models.TextChoices):
    RESTRICTION = "restriction", _("restriction of processing (PDPA s34)")
    OBJECTION = "objection", _("objection upheld (PDPA s32)")


class ProcessingLimit(models.Model):
    """While in force, the person's data is not processed for `purpose` (PDPA s34 restriction, or an upheld
    s32 objection). `purpose` is a registry purpose code, or `*`: every purpose a restriction may cover
    (raksa.subjects.limits). Codes and IDs only: the rights request that put it in force is `reference`."""

    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=12, choices=LimitKind.choices)
    purpose = models.CharField(_("purpose"), max_length=64)
    reference = models.UUIDField(null=True, blank=True)
    started_at = models.DateTimeField(_("in force since"))
    ended_at = models.DateTimeField(_("lifted"), null=True, blank=True)

    class Meta:
        verbose_name = _("processing limit")
        verbose_name_plural = _("processing limits")
        indexes = [
            models.Index(fields=["subject", "ended_at"], name="subjects_limit_subject"),
            models.Index(fields=["purpose", "ended_at"], name="subjects_limit_purpose"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of {self.purpose} for {self.subject_id}"

    @property
    def purpose_label(self) -> str:
        """The purpose in the active language ("" for every purpose a restriction may cover)."""
        from raksa.registry import registry

        if self.purpose == "*":
            return ""
        try:
            return registry.purpose(self.purpose).label
        except KeyError:
            return self.purpose
