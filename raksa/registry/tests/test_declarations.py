from django.core.exceptions import ImproperlyConfigured
from django.test import SimpleTestCase
from django.utils import translation

import raksa.registry
from raksa.registry import (
    ACCOUNT,
    CONSENT,
    CONTACT,
    EMAIL,
    EXPLICIT_CONSENT,
    HEALTH,
    MARKETING,
    NAME,
    PUBLIC_TASK,
    SERVICE_DELIVERY,
    SERVICE_RECORD,
    Purpose,
    PurposeRefusedError,
    Registry,
)
from raksa.registry.catalogue import CATEGORIES, PURPOSES, RETENTION_CLASSES


class DeclarationTests(SimpleTestCase):
    def setUp(self) -> None:
        self.registry = Registry()

    def test_it_refuses_marketing_d2(self) -> None:
        with self.assertRaises(PurposeRefusedError):
            self.registry.declare(
                "shop.Lead", "email", category=EMAIL, purposes=[CONTACT, MARKETING], legal_basis=CONSENT
            )
        with self.assertRaises(PurposeRefusedError):
            self.registry.usable_purpose("marketing")
        self.assertEqual(raksa.registry.usable_purpose("contact"), CONTACT)
        # Named in the catalogue so the policy can say it is refused, and used by no declaration.
        self.assertIn(MARKETING, raksa.registry.purposes())
        self.assertEqual(raksa.registry.declarations_in(purpose=MARKETING), ())

    def test_it_answers_the_query_api(self) -> None:
        email = self.registry.declare(
            "accounts.Contact", "email", category=EMAIL, purposes=[CONTACT], legal_basis=PUBLIC_TASK, indexed=True
        )
        name = self.registry.declare(
            "accounts.Contact",
            "name",
            category=NAME,
            purposes=[SERVICE_DELIVERY],
            legal_basis=PUBLIC_TASK,
            retention=SERVICE_RECORD,
        )
        self.assertEqual(email.retention, ACCOUNT)  # the category's default
        self.assertEqual(self.registry.declarations_for("accounts.contact"), (email, name))
        self.assertEqual(self.registry.declaration("ACCOUNTS.Contact", "name"), name)
        with self.assertRaises(LookupError):
            self.registry.declaration("accounts.Contact", "phone")
        [store] = self.registry.stores()
        self.assertEqual((store.model, store.fields), ("accounts.Contact", ("email", "name")))
        self.assertEqual(self.registry.declarations_in(category=EMAIL), (email,))
        self.assertEqual(self.registry.declarations_in(retention=SERVICE_RECORD), (name,))
        self.assertEqual(self.registry.declarations_in(purpose=CONTACT), (email,))

    def test_it_requires_explicit_consent_for_sensitive_data(self) -> None:
        with self.assertRaises(ImproperlyConfigured):
            self.registry.declare(
                "clinic.Visit", "diagnosis", category=HEALTH, purposes=[SERVICE_DELIVERY], legal_basis=CONSENT
            )
        declared = self.registry.declare(
            "clinic.Visit", "diagnosis", category=HEALTH, purposes=[SERVICE_DELIVERY], legal_basis=EXPLICIT_CONSENT
        )
        self.assertTrue(declared.sensitive)

    def test_it_refuses_a_second_declaration_of_a_field(self) -> None:
        self.registry.declare("a.B", "email", category=EMAIL, purposes=[CONTACT], legal_basis=PUBLIC_TASK)
        with self.assertRaises(ImproperlyConfigured):
            self.registry.declare("a.b", "email", category=EMAIL, purposes=[CONTACT], legal_basis=PUBLIC_TASK)
        with self.assertRaises(ImproperlyConfigured):
            self.registry.not_personal("a.B", "email", reason="published")

    def test_it_refuses_an_index_on_a_category_without_one(self) -> None:
        with self.assertRaises(ImproperlyConfigured):
            self.registry.declare(
                "a.B", "name", category=NAME, purposes=[CONTACT], legal_basis=PUBLIC_TASK, indexed=True
            )

    def test_it_adds_a_service_purpose_at_run_time(self) -> None:
        ceremony = Purpose("ceremony_invitation", "เชิญร่วมพิธี", "inviting to a ceremony")
        self.registry.register_purpose(ceremony)
        self.assertEqual(self.registry.usable_purpose("ceremony_invitation"), ceremony)
        with self.assertRaises(ImproperlyConfigured):
            self.registry.register_purpose(Purpose("ceremony_invitation", "อื่น", "other"))

    def test_it_labels_everything_in_thai_and_english(self) -> None:
        for item in (*CATEGORIES, *PURPOSES, *RETENTION_CLASSES):
            self.assertTrue(item.label_th and item.label_en, item.code)
        for category in CATEGORIES:
            self.assertIsNotNone(category.default_retention, category.code)
        with translation.override("en"):
            self.assertEqual(EMAIL.label, "e-mail address")
        with translation.override("th"):
            self.assertEqual(EMAIL.label, "อีเมล")

    def test_it_forgets_declarations_made_in_an_overlay(self) -> None:
        with self.registry.overlay():
            self.registry.declare("a.B", "email", category=EMAIL, purposes=[CONTACT], legal_basis=PUBLIC_TASK)
            self.registry.register_purpose(Purpose("tour", "นำชม", "guided tours"))
            self.assertTrue(self.registry.is_declared("a.B", "email"))
        self.assertFalse(self.registry.is_declared("a.B", "email"))
        self.assertEqual(self.registry.stores(), ())
        with self.assertRaises(KeyError):
            self.registry.purpose("tour")


class SiteDeclarationsTests(SimpleTestCase):
    def test_it_uses_every_stored_field_only_for_lawful_declared_purposes_u2(self) -> None:
        """Everything the site stores about people is tied to the agency's own purposes and a legal basis."""
        declarations = raksa.registry.registry.declarations()
        self.assertGreater(len(declarations), 10)
        known_bases = set(raksa.registry.registry.legal_bases())
        for declaration in declarations:
            where = f"{declaration.model}.{declaration.field}"
            self.assertTrue(declaration.purposes, f"{where} has no purpose")
            self.assertFalse([p for p in declaration.purposes if p.refused], f"{where} has a refused purpose")
            self.assertIn(declaration.legal_basis, known_bases, where)
            if declaration.category.sensitive:
                self.assertTrue(declaration.legal_basis.is_consent, f"{where} is sensitive without explicit consent")
