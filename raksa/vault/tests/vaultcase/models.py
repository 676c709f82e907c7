from django.db import models

from raksa.vault.fields import EncryptedField
from raksa.vault.models import VaultModel


class Dossier(VaultModel):
    """A case file of one person, with a field of each kind the vault handles."""

    vault_store = "vaultcase.dossier"

    name = EncryptedField()
    email = EncryptedField(null=True, blank=True)
    phone = EncryptedField(null=True, blank=True)
    national_id = EncryptedField(null=True, blank=True)
    note = EncryptedField(null=True, blank=True)
    opened_on = models.DateField(auto_now_add=True)

    def __str__(self) -> str:
        return f"dossier {self.id}"
