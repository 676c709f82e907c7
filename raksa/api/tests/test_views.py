"""Each endpoint through the test client: the person's own data only, another person's IDs answer 404."""

from django.test import override_settings

from raksa.accounts.addresses import store
from raksa.api.tests.client import ApiTestCase
from raksa.audit.models import AuditEntry
from raksa.consent.models import Consent, ConsentEvent
from raksa.organisations.models import Agency, Controller
from raksa.testing import accounts as personas
from raksa.testing.mailbox import running

EMAIL = "malee@example.org"


class AccountTests(ApiTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.user = personas.citizen("malee")
        store(self.user, EMAIL)
        self.token = self.token_for(self.user)

    def test_it_shows_my_account(self) -> None:
        me = self.call("GET", "/me", token=self.token).json()
        self.assertEqual((me["username"], me["email"], me["email_confirmed"]), ("malee", EMAIL, False))

    @override_settings(TASKS=personas.IMMEDIATE_TASKS)
    def test_it_corrects_my_address_and_asks_to_confirm_it(self) -> None:
        running().clear()
        me = self.call("PATCH", "/me", {"email": "new.malee@example.org"}, token=self.token).json()
        self.assertEqual((me["email"], me["email_confirmed"]), ("new.malee@example.org", False))
        self.assertEqual(len(running().received(to="new.malee@example.org")), 1)
        self.assertIn("accounts.email_changed", AuditEntry.objects.values_list("action", flat=True))

    def test_it_refuses_a_wrong_address_and_the_user_id(self) -> None:
        wrong = self.call("PATCH", "/me", {"email": "no"}, token=self.token)
        self.assertIn("email", self.field_errors(self.assertProblem(wrong, 422, "invalid-input")))
        renamed = self.call("PATCH", "/me", {"username": "other"}, token=self.token)
        self.assertIn("username", self.field_errors(self.assertProblem(renamed, 422, "invalid-input")))
        self.assertEqual(self.call("GET", "/me", token=self.token).json()["email"], EMAIL)


class PolicyTests(ApiTestCase):
    def setUp(self) -> None:
        super().setUp()
        controller = Controller.objects.create(slug="bma", name_th="กทม.", name_en="BMA")
        self.agency = Agency.objects.create(slug="minburi", controller=controller, name_th="เขตมีนบุรี", name_en="Minburi")

    def test_it_serves_the_platform_policy_accepted_at_sign_up(self) -> None:
        policy = self.call("GET", "/policy").json()
        self.assertEqual((policy["scope"], policy["version"]), ("platform", self.policy.number))
        self.assertTrue(policy["processing"])
        self.assertIn("Privacy policy", policy["text"])

    def test_it_serves_an_agencys_policy_and_its_versions(self) -> None:
        agencies = self.call("GET", "/agencies").json()
        self.assertEqual([a["slug"] for a in agencies["items"]], ["minburi"])
        # Without a policy of its own, the platform's governs the agency.
        self.assertEqual(self.call("GET", "/agencies/minburi/policy").json()["scope"], "platform")
        self.assertEqual(self.call("GET", "/agencies/minburi/policy/versions").json()["items"], [])
        self.assertProblem(self.call("GET", "/agencies/nowhere/policy"), 404, "not-found")
        self.assertProblem(self.call("GET", "/agencies/platform/policy"), 404, "not-found")


class ConsentTests(ApiTestCase):
    def setUp(self) -> None:
        super().setUp()
        controller = Controller.objects.create(slug="bma", name_th="กทม.", name_en="BMA")
        Agency.objects.create(slug="minburi", controller=controller, name_th="เขตมีนบุรี", name_en="Minburi")
        self.user = personas.citizen("malee")
        self.token = self.token_for(self.user)

    def test_it_grants_and_withdraws_a_consent_from_the_app(self) -> None:
        listed = self.call("GET", "/me/consents", token=self.token).json()["items"]
        self.assertIn(("minburi", "news_and_pr", False), [(c["agency"], c["purpose"], c["granted"]) for c in listed])
        body = {"agency": "minburi", "granted": True, "age_group": "adult", "email": EMAIL}
        granted = self.call("PUT", "/me/consents/news_and_pr", body, token=self.token).json()
        self.assertTrue(granted["granted"])
        withdrawn = self.call(
            "PUT", "/me/consents/news_and_pr", {"agency": "minburi", "granted": False}, token=self.token
        )
        self.assertFalse(withdrawn.json()["granted"])
        self.assertEqual(
            list(ConsentEvent.objects.values_list("action", "channel")), [("granted", "app"), ("withdrawn", "app")]
        )

    def test_it_refuses_a_minor_without_a_guardian_field_by_field(self) -> None:
        body = {"agency": "minburi", "granted": True, "age_group": "minor", "email": EMAIL}
        refused = self.call("PUT", "/me/consents/news_and_pr", body, token=self.token)
        self.assertIn("guardian_consents", self.field_errors(self.assertProblem(refused, 422, "invalid-input")))
        self.assertFalse(Consent.objects.exists())

    def test_it_answers_404_for_a_purpose_not_on_consent(self) -> None:
        body = {"agency": "minburi", "granted": True, "age_group": "adult"}
        self.assertProblem(self.call("PUT", "/me/consents/marketing", body, token=self.token), 404, "not-found")
