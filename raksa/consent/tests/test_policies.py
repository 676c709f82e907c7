import datetime

from django.test import TestCase, override_settings
from django.utils import timezone

from raksa import registry
from raksa.accounts.models import User
from raksa.audit.models import AuditEntry
from raksa.consent import actions, policies
from raksa.consent.models import AcceptanceKind, Channel, PolicyVersion
from raksa.consent.policies import Processing
from raksa.core import demo
from raksa.organisations.models import Agency, StaffMembership, StaffRole
from raksa.subjects.models import Subject
from raksa.testing import accounts as personas

ORIGIN = "http://testserver"


def publish(
    agency: Agency | None, *, intro: str = "# นโยบาย\n\nข้อความ", summary: str = "", actor=None
) -> PolicyVersion:
    draft = actions.start_policy_draft(agency=agency, actor=actor)
    actions.save_policy_draft(
        version=draft,
        actor=actor,
        introduction_th=intro,
        introduction_en=intro.replace("นโยบาย", "Policy"),
        summary_th=summary,
        summary_en=summary,
        effective_date=timezone.localdate(),
    )
    return actions.publish_policy_version(version=draft, actor=actor)


def service_section(markdown: str) -> str:
    """The generated lines about the test service only (other apps declare national IDs too)."""
    return markdown.split("### คัดสำเนาสูติบัตร")[1].split("#")[0]


class PolicyGenerationTests(TestCase):
    databases = "__all__"
    minburi: Agency

    @classmethod
    def setUpTestData(cls) -> None:
        cls.minburi = demo.load_organisations()[1]

    def setUp(self) -> None:
        self.fields: list[Processing] = []
        policies.register_source(self.service_fields)
        self.addCleanup(policies.unregister_source, self.service_fields)

    def service_fields(self, agency: Agency | None) -> list[Processing]:
        """A service of Minburi as configured: the fields it asks for (what raksa/services reports)."""
        return self.fields if agency == self.minburi else []

    def service_field(self, category: str, retention: str = "service_record", recipients=()) -> Processing:
        return Processing(
            activity="services.service:birth-certificate",
            activity_th="คัดสำเนาสูติบัตร",
            activity_en="Birth certificate copy",
            category=category,
            purpose=registry.SERVICE_DELIVERY.code,
            legal_basis=registry.PUBLIC_TASK.code,
            retention=retention,
            recipients=tuple(recipients),
        )

    def test_it_generates_the_processing_sections_from_the_registry_v1(self) -> None:
        version = publish(None)
        for declaration in registry.declarations():
            self.assertIn(declaration.category.label_th, version.markdown_th)
            self.assertIn(declaration.category.label_en, version.markdown_en)
            self.assertIn(declaration.retention.label_en, version.markdown_en)
        self.assertIn(registry.MARKETING.label_en, version.markdown_en)
        self.assertIn("raksa_cookies", version.html_en)
        self.assertEqual(policies.pending_changes(None), [])

    def test_it_says_how_long_an_erased_person_can_be_restored_from_a_backup(self) -> None:
        with override_settings(RAKSA_KEYSTORE_BACKUP_DAYS=14):
            version = publish(None)
        self.assertIn("Backups of the key store are kept 14 days", version.markdown_en)
        self.assertIn("สำเนาสำรองของที่เก็บกุญแจเก็บไว้ 14 วัน", version.markdown_th)

    def test_it_changes_the_policy_when_a_service_changes_its_fields_v1(self) -> None:
        self.fields = [self.service_field("name")]
        first = publish(self.minburi)
        self.assertIn(registry.NAME.label_th, service_section(first.markdown_th))
        self.assertNotIn(registry.NATIONAL_ID.label_th, service_section(first.markdown_th))

        national_id = self.service_field("national_id")
        self.fields = [self.service_field("name"), national_id]
        self.assertFalse(policies.covers(self.minburi, national_id))
        self.assertEqual(policies.pending_changes(self.minburi), [national_id])

        second = publish(self.minburi, summary="เพิ่มเลขประจำตัวประชาชน")
        self.assertIn(registry.NATIONAL_ID.label_th, service_section(second.markdown_th))
        self.assertTrue(policies.covers(self.minburi, national_id))
        self.assertEqual(policies.pending_changes(self.minburi), [])
        first.refresh_from_db()
        self.assertNotIn(registry.NATIONAL_ID.label_th, service_section(first.markdown_th), "published is frozen")

    def test_it_keeps_a_longer_retention_or_a_new_recipient_pending_v1(self) -> None:
        self.fields = [self.service_field("name", retention="inquiry")]
        publish(self.minburi)
        self.assertTrue(policies.covers(self.minburi, self.service_field("name", retention="inquiry")))
        self.assertFalse(policies.covers(self.minburi, self.service_field("name", retention="case_file")))
        self.assertFalse(
            policies.covers(self.minburi, self.service_field("name", retention="inquiry", recipients=["Thailand Post"]))
        )

    def test_it_answers_many_coverage_questions_from_one_reading_of_the_policy(self) -> None:
        self.fields = [self.service_field("name")]
        publish(self.minburi)
        with self.assertNumQueries(1):
            covered = policies.covering(self.minburi)
        with self.assertNumQueries(0):
            answers = [covered(self.service_field(field)) for field in ("name", "national_id", "name")]
        self.assertEqual(answers, [True, False, True])

    def test_it_refuses_to_edit_a_published_version_v1(self) -> None:
        version = publish(None)
        with self.assertRaises(actions.PolicyFrozenError):
            actions.save_policy_draft(
                version=version,
                actor=None,
                introduction_th="x",
                introduction_en="x",
                summary_th="",
                summary_en="",
                effective_date=timezone.localdate(),
            )
        with self.assertRaises(actions.PolicyFrozenError):
            actions.publish_policy_version(version=version, actor=None)

    def test_it_records_acceptance_of_a_frozen_version_only_v1(self) -> None:
        subject = Subject.objects.create()
        version = publish(None)
        self.assertEqual(policies.current_platform_policy(), version)
        acceptance = actions.accept_policy(subject=subject, version=version, channel=Channel.APP)
        self.assertEqual((acceptance.kind, acceptance.channel), (AcceptanceKind.ACCEPTED, "app"))
        draft = actions.start_policy_draft(agency=None, actor=None)
        with self.assertRaises(actions.PolicyFrozenError):
            actions.accept_policy(subject=subject, version=draft)

    def test_it_numbers_versions_per_policy_and_audits_publication_v1(self) -> None:
        self.assertEqual(publish(None).number, 1)
        self.assertEqual(publish(self.minburi).number, 1)
        self.assertEqual(publish(None).number, 2)
        self.assertEqual(AuditEntry.objects.filter(action="consent.policy_published").count(), 3)

    def test_it_escapes_raw_html_and_unsafe_links_in_the_policy_v1(self) -> None:
        version = publish(None, intro="<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=y>")
        self.assertNotIn("<script", version.html_th)
        self.assertNotIn("javascript:", version.html_th)
        self.assertNotIn("<img", version.html_th)
        self.assertIn("&lt;script&gt;", version.html_th)

    def test_it_puts_a_future_version_in_force_only_from_its_date_v1(self) -> None:
        first = publish(None)
        draft = actions.start_policy_draft(agency=None, actor=None)
        draft.effective_date = timezone.localdate() + datetime.timedelta(days=7)
        draft.save()
        actions.publish_policy_version(version=draft, actor=None)
        self.assertEqual(policies.current_platform_policy(), first)


class PolicyPageTests(TestCase):
    databases = "__all__"
    minburi: Agency
    first: PolicyVersion
    second: PolicyVersion
    person: User
    subject: Subject

    @classmethod
    def setUpTestData(cls) -> None:
        cls.minburi = demo.load_organisations()[1]
        cls.first = publish(None, intro="# นโยบาย\n\nบรรทัดเดิม")
        cls.second = publish(None, intro="# นโยบาย\n\nบรรทัดใหม่", summary="เปลี่ยนบรรทัดหนึ่ง")
        cls.subject = Subject.objects.create()
        cls.person = User.objects.create_user("somsri", "pw-somsri-123", subject=cls.subject)

    def test_it_shows_the_version_and_last_updated_v1(self) -> None:
        page = self.client.get("/en/privacy/")
        self.assertContains(page, "Version 2")
        self.assertContains(page, "Last updated")
        self.assertContains(page, "เปลี่ยนบรรทัดหนึ่ง")

    def test_it_keeps_old_versions_readable_v1(self) -> None:
        page = self.client.get("/th/privacy/platform/v1/")
        self.assertContains(page, "บรรทัดเดิม")
        self.assertContains(page, 'class="notice" role="status"')
        self.assertEqual(self.client.get("/th/privacy/platform/v9/").status_code, 404)

    def test_it_compares_any_two_versions_v1(self) -> None:
        page = self.client.get("/th/privacy/platform/diff/", {"old": 1, "new": 2})
        self.assertContains(page, '<li class="removed"><del>')
        self.assertContains(page, "บรรทัดเดิม</del>")
        self.assertContains(page, "บรรทัดใหม่</ins>")

    def test_it_shows_the_summary_of_changes_to_people_who_accepted_an_older_version_v1(self) -> None:
        actions.accept_policy(subject=self.subject, version=self.first, channel=Channel.WEB)
        self.client.force_login(self.person)
        page = self.client.get("/th/")
        self.assertContains(page, 'class="policy-notice"')
        self.assertContains(page, "เปลี่ยนบรรทัดหนึ่ง")
        response = self.client.post("/th/privacy/read-changes/", {"next": "/th/"}, HTTP_ORIGIN=ORIGIN)
        self.assertRedirects(response, "/th/", fetch_redirect_response=False)
        self.assertTrue(
            self.subject.policy_acceptances.filter(version=self.second, kind=AcceptanceKind.READ_CHANGES).exists()
        )
        self.assertNotContains(self.client.get("/th/"), 'class="policy-notice"')

    def test_it_reminds_a_visitor_who_allowed_preferences_of_the_changes_v1(self) -> None:
        self.client.cookies["raksa_cookies"] = "1:preferences"
        self.client.cookies["raksa_policy_seen"] = "1"
        self.assertContains(self.client.get("/th/"), "เปลี่ยนบรรทัดหนึ่ง")
        response = self.client.get("/th/privacy/")
        self.assertEqual(response.cookies["raksa_policy_seen"].value, "2")
        self.assertNotContains(self.client.get("/th/"), 'class="policy-notice"')

    def test_it_shows_no_notice_to_someone_who_accepted_the_current_version_v1(self) -> None:
        actions.accept_policy(subject=self.subject, version=self.second, channel=Channel.WEB)
        self.client.force_login(self.person)
        self.assertNotContains(self.client.get("/th/"), 'class="policy-notice"')

    def test_it_lets_only_the_agencys_dpo_edit_its_draft_v1(self) -> None:
        dpo = User.objects.create_user("dpo.x", "pw-dpo-12345", subject=Subject.objects.create(), is_staff=True)
        StaffMembership.objects.create(user=dpo, agency=self.minburi, role=StaffRole.DPO)
        personas.sign_in_with_second_factor(self.client, dpo)
        self.assertEqual(self.client.get("/th/dpo/privacy/most-ops/").status_code, 404)
        self.assertEqual(self.client.get("/th/dpo/privacy/platform/").status_code, 404)
        page = self.client.get("/th/dpo/privacy/minburi/")
        self.assertContains(page, 'name="publish"')
        self.assertFalse(PolicyVersion.objects.filter(agency=self.minburi).exists(), "reading the page wrote nothing")
        response = self.client.post(
            "/th/dpo/privacy/minburi/",
            {
                "introduction_th": "# เขตมีนบุรี",
                "introduction_en": "# Minburi",
                "summary_th": "ฉบับแรก",
                "summary_en": "First",
                "effective_date": timezone.localdate().isoformat(),
                "publish": "1",
            },
        )
        self.assertRedirects(response, "/th/privacy/minburi/v1/", fetch_redirect_response=False)
        self.assertContains(self.client.get("/th/privacy/minburi/"), "เขตมีนบุรี")
        citizen = User.objects.create_user("plain", "pw-plain-1234", subject=Subject.objects.create())
        self.client.force_login(citizen)
        self.assertEqual(self.client.get("/th/dpo/privacy/minburi/").status_code, 403)


class DemoPolicyTests(TestCase):
    databases = "__all__"

    def test_it_publishes_the_demo_policies_once_v1(self) -> None:
        demo.load_organisations()
        demo.load_policies()
        demo.load_policies()
        published = PolicyVersion.objects.filter(status="published")
        self.assertEqual(published.count(), 1 + Agency.objects.count())
        minburi = published.get(agency__slug="minburi")
        self.assertIn("สำนักงานเขตมีนบุรีจัดทำนโยบาย", minburi.markdown_th)
        self.assertIn("raksa_cookies", minburi.markdown_th)
        self.assertEqual(policies.pending_changes(minburi.agency), [])


class ServiceSourceTests(TestCase):
    """The services app reports each service's declared fields to its agency's policy (V1)."""

    databases = "__all__"

    def collected(self, markdown: str) -> str:
        """The policy's "what we collect" section."""
        return markdown.split("## ข้อมูลที่เราเก็บ")[1].split("\n## ")[0]

    def test_it_lists_a_services_declared_fields_in_its_agencys_policy_and_nowhere_else_v1(self) -> None:
        from raksa.services import actions as services
        from raksa.services.tests import builders

        office, elsewhere = builders.agency(), builders.agency("lat-krabang", controller_slug="bma")
        service = builders.certificate(office, fields=("name", "phone"))
        section = self.collected(policies.current_policy(office).markdown_th)  # type: ignore[union-attr]
        listed = section.split(f"### {service.title_th}")[1].split("###")[0]
        self.assertIn(registry.NAME.label_th, listed)
        self.assertIn(registry.PHONE.label_th, listed)
        self.assertNotIn(registry.NATIONAL_ID.label_th, listed)
        # Another agency's policy does not claim this service's processing.
        self.assertNotIn(service.title_th, self.collected(publish(elsewhere).markdown_th))

        services.declare_field(
            service=service, category="national_id", purpose="service_delivery", legal_basis="pdpa_24_4", actor=None
        )
        self.assertEqual([item.category for item in policies.pending_changes(office)], ["national_id"])
        republished = publish(office)
        listed = self.collected(republished.markdown_th).split(f"### {service.title_th}")[1].split("###")[0]
        self.assertIn(registry.NATIONAL_ID.label_th, listed)
