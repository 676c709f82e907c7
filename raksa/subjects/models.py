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
