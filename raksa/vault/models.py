"""The key store's tables (in the separate `keystore` database) and the base of personal-data models.

DataKey and BlindIndex live in the key store (raksa.vault.routers) so that its short-lived backups,
not the main database's long-lived ones, decide how long destroyed data can come back.
"""

import uuid
from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from raksa.vault.routers import KEYSTORE_MODELS


class DataKey(models.Model):
    """One AES-256 key per (subject, controller, retention class), wrapped by the master key.

    Destroying it (crypto-shredding) empties `wrapped` and stamps `destroyed_at`: every value sealed
    under it becomes unreadable here and in every backup of the main database. The empty row stays
    so that such a value reads as erased, while a value naming a key that never existed is an error.
    IDs refer to the main database but are not foreign keys: the two databases are apart on purpose.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of their own: every look-up by subject is of live keys (the unique constraint below
    # serves it), rotation asks for the keys *not* under a master key (no index helps), and each index
    # would be written again for every key destroyed (an UPDATE writes a new row version).
    subject_id = models.UUIDField()
    controller_id = models.BigIntegerField()
    retention = models.CharField(max_length=40)
    wrapped = models.BinaryField(null=True)
    master_key_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    destroyed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("data key")
        verbose_name_plural = _("data keys")
        constraints = [
            models.UniqueConstraint(
                fields=["subject_id", "controller_id", "retention"],
                condition=models.Q(destroyed_at__isnull=True),
                name="one_live_data_key_per_class",
            )
        ]

    def __str__(self) -> str:
        return f"{self.id} ({self.retention}, wrapped by {self.master_key_id})"


class BlindIndex(models.Model):
    """A keyed HMAC of one normalised value, for exact-match look-ups without decrypting."""

    kind = models.CharField(max_length=20)
    # The HMAC's 32 raw bytes (not 64 hex digits): every row and its entry in each index holding it
    # take half the room, and a retention batch that deletes thousands rewrites fewer pages.
    digest = models.BinaryField(max_length=32)
    subject_id = models.UUIDField(db_index=True)
    controller_id = models.BigIntegerField()
    retention = models.CharField(max_length=40)
    store = models.CharField(max_length=100)
    field = models.CharField(max_length=100)
    object_id = models.UUIDField()
    # The field is declared unique (an account's e-mail): no other row of it may have this digest.
    unique = models.BooleanField(default=False)
    # Which index key made the digest (raksa.vault.indexes.key_id); empty: not known, recompute.
    key_id = models.CharField(max_length=16, default="", db_default="")

    class Meta:
        verbose_name = _("blind index")
        verbose_name_plural = _("blind indexes")
        # The digest alone serves a look-up: the kind is in the HMAC's input (raksa.vault.indexes), so
        # digests of two kinds never meet, and an index without it is narrower.
        indexes = [models.Index(fields=["digest"], name="vault_blindindex_digest")]
        constraints = [
            models.UniqueConstraint(fields=["store", "object_id", "field"], name="one_blind_index_per_value"),
            models.UniqueConstraint(
                fields=["store", "field", "digest"], condition=Q(unique=True), name="unique_value_per_field"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} index of {self.store}.{self.field} {self.object_id}"


KEYSTORE_MODELS.update({("vault", "datakey"), ("vault", "blindindex")})


class VaultModel(models.Model):
    """The usual base of a model with encrypted fields: a client-made UUID, its subject and controller.

    A model may instead define these itself; the vault reads the names below. `vault_store` is the
    stable logical name bound into every ciphertext: never change it once data is stored.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subject = models.ForeignKey("subjects.Subject", on_delete=models.PROTECT, related_name="+")
    controller = models.ForeignKey("organisations.Controller", on_delete=models.PROTECT, related_name="+")

    vault_store: ClassVar[str]
    vault_subject_field: ClassVar[str] = "subject"
    vault_controller_field: ClassVar[str] = "controller"

    class Meta:
        abstract = True
