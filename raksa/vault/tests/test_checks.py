import uuid

from django.core.checks import CheckMessage
from django.db import models
from django.test import SimpleTestCase
from django.test.utils import isolate_apps

from raksa.registry import NAME, PUBLIC_TASK, SERVICE_DELIVERY, Registry
from raksa.registry.checks import check_models
from raksa.vault.fields import EncryptedField


def _ids(messages: list[CheckMessage]) -> list[str]:
    return sorted(message.id or "" for message in messages)


def _personal_model(name: str, store: str, field: str = "value") -> type[models.Model]:
    """A model shaped as the vault needs: UUID key, subject and controller, one encrypted field."""
    attributes = {
        "__module__": __name__,
        "id": models.UUIDField(primary_key=True, default=uuid.uuid4),
        "subject_id": models.UUIDField(),
        "controller_id": models.BigIntegerField(),
        field: EncryptedField(),
        "vault_store": store,
        "vault_subject_field": "subject_id",
        "vault_controller_field": "controller_id",
    }
    return type(name, (models.Model,), attributes)


@isolate_apps("raksa.vault")
class VaultFieldCheckTests(SimpleTestCase):
    def test_it_needs_a_declaration_for_every_encrypted_field(self) -> None:
        petition = _personal_model("Petition", "checks.petition", "petitioner")
        registry = Registry()
        self.assertEqual(_ids(check_models([petition], registry=registry)), ["registry.E001"])
        registry.declare(
            "vault.Petition", "petitioner", category=NAME, purposes=[SERVICE_DELIVERY], legal_basis=PUBLIC_TASK
        )
        self.assertEqual(check_models([petition], registry=registry), [])
        self.assertEqual(petition.check(), [])

    def test_it_needs_a_store_name_a_uuid_key_and_the_subject_and_controller(self) -> None:
        class Letter(models.Model):  # noqa: DJ008
            sender = EncryptedField(unique=True)

        self.assertEqual(_ids(Letter.check()), ["vault.E001", "vault.E003", "vault.E004", "vault.E004", "vault.E005"])

    def test_it_refuses_two_models_with_one_store_name(self) -> None:
        first = _personal_model("First", "checks.shared")
        third = _personal_model("Third", "checks.shared")
        self.assertEqual(first.check(), [])
        self.assertEqual(_ids(third.check()), ["vault.E002"])
