from django.apps import apps
from django.contrib.admin import AdminSite
from django.core.checks import CheckMessage
from django.db import models
from django.test import SimpleTestCase
from django.test.utils import isolate_apps

from raksa.registry import EMAIL, NAME, PUBLIC_TASK, SERVICE_DELIVERY, Registry
from raksa.registry.checks import check_models, check_personal_data, looks_personal


class _PersonalTextField(models.TextField):
    """Stands in for a vault field: the checks recognise personal fields by this attribute."""

    personal_data = True


def _ids(messages: list[CheckMessage]) -> list[str]:
    return sorted(message.id or "" for message in messages)


@isolate_apps("raksa.registry")
class RegistryCheckTests(SimpleTestCase):
    def setUp(self) -> None:
        self.registry = Registry()

    def declare(self, model: str, field: str, *, plaintext: str = "") -> None:
        self.registry.declare(
            model, field, category=NAME, purposes=[SERVICE_DELIVERY], legal_basis=PUBLIC_TASK, plaintext=plaintext
        )

    def test_it_fires_for_an_encrypted_field_without_a_declaration(self) -> None:
        class Letter(models.Model):  # noqa: DJ008
            sender = _PersonalTextField()

        self.assertEqual(_ids(check_models([Letter], registry=self.registry)), ["registry.E001"])
        self.declare("registry.Letter", "sender")
        self.assertEqual(check_models([Letter], registry=self.registry), [])

    def test_it_fires_for_an_undeclared_field_that_looks_personal(self) -> None:
        class Inquiry(models.Model):  # noqa: DJ008
            email = models.EmailField()
            reply_phone = models.CharField(max_length=20)
            page = models.CharField(max_length=20)

        messages = check_models([Inquiry], registry=self.registry)
        self.assertEqual(_ids(messages), ["registry.E002", "registry.E002"])
        self.assertIn("Inquiry.email", messages[0].msg)

    def test_it_accepts_a_field_marked_not_personal_with_a_reason(self) -> None:
        class Office(models.Model):  # noqa: DJ008
            contact_email = models.EmailField()

        self.registry.not_personal("registry.Office", "contact_email", reason="published")
        self.assertEqual(check_models([Office], registry=self.registry), [])

    def test_it_fires_for_a_personal_model_in_the_admin(self) -> None:
        class Petition(models.Model):  # noqa: DJ008
            petitioner = _PersonalTextField()

        self.declare("registry.Petition", "petitioner")
        site = AdminSite(name="isolated")
        site.register(Petition)
        self.assertEqual(_ids(check_models([Petition], registry=self.registry, admin_sites=[site])), ["registry.E003"])

    def test_it_fires_for_a_declaration_of_a_missing_model_or_field(self) -> None:
        class Visit(models.Model):  # noqa: DJ008
            day = models.DateField()

        self.declare("registry.Visit", "visitor_name")
        self.declare("registry.Ghost", "name")
        self.registry.not_personal("registry.Visit", "old_email", reason="removed")
        ids = _ids(check_models([Visit], registry=self.registry))
        self.assertEqual(ids, ["registry.E004", "registry.E005", "registry.E005"])

    def test_it_fires_for_a_declared_plaintext_field_without_a_reason(self) -> None:
        class Member(models.Model):  # noqa: DJ008
            email = models.EmailField()
            nickname = models.CharField(max_length=40)

        self.registry.declare(
            "registry.Member", "email", category=EMAIL, purposes=[SERVICE_DELIVERY], legal_basis=PUBLIC_TASK
        )
        self.declare("registry.Member", "nickname", plaintext="shown on public comments by the person's choice")
        messages = check_models([Member], registry=self.registry)
        self.assertEqual(_ids(messages), ["registry.E006"])
        self.assertIn("Member.email", messages[0].msg)


class InstalledModelsTests(SimpleTestCase):
    def test_it_finds_every_installed_model_declared(self) -> None:
        # The vault's test-only app declares its model only while its own tests run.
        site = [config for config in apps.get_app_configs() if config.label != "vaultcase"]
        self.assertEqual(check_personal_data(site), [])

    def test_it_recognises_personal_looking_names(self) -> None:
        for name in ("email", "dpo_email", "first_name", "ip_address", "date_of_birth", "national_id", "phone"):
            self.assertTrue(looks_personal(name), name)
        for name in ("page", "message", "storage", "slug", "website", "emailed_at_count"):
            self.assertFalse(looks_personal(name), name)
