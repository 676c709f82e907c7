"""The policy and the RoPA print the periods the retention engine enforces: change a rule, the text follows."""

from django.test import TestCase, override_settings

from raksa.consent.policies import generate_markdown, processing_for
from raksa.disclosures import ropa
from raksa.services.tests import builders
from raksa.testing import accounts as personas


class PolicyRetentionTests(TestCase):
    databases = "__all__"

    def platform_policy(self, language: str) -> str:
        return generate_markdown(None, "# Policy", language, processing_for(None))

    def test_the_policy_text_follows_the_inactive_account_rule_v1(self) -> None:
        personas.platform_operator()
        with override_settings(RAKSA_INACTIVE_ACCOUNT_DAYS=400):
            self.assertIn("400 days after the last log-in", self.platform_policy("en"))
            self.assertIn("400 วันนับจากการเข้าสู่ระบบครั้งล่าสุด", self.platform_policy("th"))
        with override_settings(RAKSA_INACTIVE_ACCOUNT_DAYS=500):
            english = self.platform_policy("en")
        self.assertIn("500 days after the last log-in", english)
        self.assertNotIn("400 days after the last log-in", english)

    def test_the_policy_prints_hours_for_export_links_c1(self) -> None:
        self.assertIn("24 hours after the file is ready", self.platform_policy("en"))

    def test_an_agencys_policy_and_ropa_follow_a_services_days_v1(self) -> None:
        service = builders.certificate(builders.agency(), fields=("name",))
        service.retention_days = 45
        service.save()
        self.assertIn(
            "45 days after the service is completed",
            generate_markdown(service.agency, "# Policy", "en", processing_for(service.agency)),
        )
        rows = [row.text("en") for row in ropa.build(service.agency) if row.item == 4]
        self.assertTrue(any("45 days after the service is completed" in row for row in rows), rows)
        service.retention_days = 60
        service.save()
        rows = [row.text("en") for row in ropa.build(service.agency) if row.item == 4]
        self.assertTrue(any("60 days after" in row for row in rows), rows)
        self.assertFalse(any("45 days after" in row for row in rows), rows)
