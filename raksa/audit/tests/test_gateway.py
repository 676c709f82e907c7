import re
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar
from unittest import mock

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.db import DatabaseError, connection
from django.http import HttpRequest
from django.test import RequestFactory, TestCase
from django.utils import timezone

from raksa.accounts.mfa import MFA_VERIFIED
from raksa.accounts.models import User
from raksa.audit import actions, gateway
from raksa.audit.models import AuditEntry, Outcome
from raksa.audit.tracker import entries_about
from raksa.organisations.models import Agency, StaffMembership, StaffRole
from raksa.subjects.models import Subject
from raksa.testing.accounts import citizen, staff, with_totp
from raksa.vault.routers import KEYSTORE
from raksa.vault.tests.factories import DossierTests, controller, dossier
from raksa.vault.tests.vaultcase.models import Dossier


def _subject(user: User) -> Subject:
    assert user.subject is not None
    return user.subject


def _request(user: User, *, second_factor: bool = True) -> HttpRequest:
    request = RequestFactory().get("/th/staff/")
    request.user = user
    request.session = SessionStore()
    if second_factor:
        with_totp(user)
        request.session[MFA_VERIFIED] = timezone.now().timestamp()
    return request


@contextmanager
def _policy(fields: set[str], agency: Agency) -> Any:
    """The policy an owning app would register: this agency's officers may read these fields."""

    def policy(staff: StaffMembership, record: Dossier, purpose: str) -> gateway.Grant | None:
        return gateway.Grant(agency_id=agency.pk, fields=frozenset(fields), legal_basis="public_task")

    with mock.patch.dict(gateway._POLICIES, {Dossier: policy}):
        yield


class GatewayTests(DossierTests, TestCase):
    databases = "__all__"
    minburi: ClassVar[Agency]
    other: ClassVar[Agency]
    person: ClassVar[User]
    record: ClassVar[Dossier]
    officer: ClassVar[User]

    @classmethod
    def setUpTestData(cls) -> None:
        owner = controller("bma")
        cls.minburi = Agency.objects.create(controller=owner, slug="minburi", name_th="มีนบุรี", name_en="Minburi")
        cls.other = Agency.objects.create(controller=owner, slug="bangkapi", name_th="บางกะปิ", name_en="Bang Kapi")
        cls.person = citizen("somsri")
        cls.record = dossier(_subject(cls.person), owner, name="Somsri Jaidee", email="somsri@example.org")
        cls.officer = staff("officer.minburi", agency=cls.minburi)

    def test_it_returns_values_after_committing_the_audit_entry_s3(self) -> None:
        with _policy({"name", "email"}, self.minburi):
            values = gateway.read(
                _request(self.officer), record=self.record, fields=["name"], purpose="service_delivery"
            )
        self.assertEqual(values, {"name": "Somsri Jaidee"})
        entry = AuditEntry.objects.get(action="gateway.read")
        self.assertEqual(
            (entry.actor_id, entry.role, entry.agency_id, entry.subject_id, entry.field_names, entry.outcome),
            (self.officer.pk, "officer", self.minburi.pk, _subject(self.person).pk, ["name"], Outcome.ALLOWED),
        )
        self.assertEqual(
            (entry.purpose, entry.legal_basis, entry.object_id),
            ("service_delivery", "public_task", str(self.record.pk)),
        )

    def test_it_refuses_another_agencys_officer_and_records_the_refusal_s2(self) -> None:
        outsider = staff("officer.bangkapi", agency=self.other)
        with _policy({"name"}, self.minburi), self.assertRaises(gateway.AccessDenied):
            gateway.read(_request(outsider), record=self.record, fields=["name"], purpose="service_delivery")
        entry = AuditEntry.objects.get(action="gateway.read")
        self.assertEqual(
            (entry.outcome, entry.actor_id, entry.subject_id), (Outcome.DENIED, outsider.pk, _subject(self.person).pk)
        )

    def test_it_refuses_fields_beyond_need_to_know_s2(self) -> None:
        with _policy({"name"}, self.minburi), self.assertRaises(gateway.AccessDenied):
            gateway.read(
                _request(self.officer), record=self.record, fields=["name", "email"], purpose="service_delivery"
            )
        self.assertEqual(AuditEntry.objects.get().outcome, Outcome.DENIED)

    def test_it_refuses_a_record_no_policy_covers(self) -> None:
        with self.assertRaises(gateway.AccessDenied):
            gateway.read(_request(self.officer), record=self.record, fields=["name"], purpose="service_delivery")

    def test_it_refuses_staff_who_have_not_passed_the_second_factor(self) -> None:
        with _policy({"name"}, self.minburi), self.assertRaises(gateway.AccessDenied):
            gateway.read(
                _request(self.officer, second_factor=False),
                record=self.record,
                fields=["name"],
                purpose="service_delivery",
            )
        self.assertEqual(AuditEntry.objects.get().action, "gateway.read_without_mfa")

    def test_it_refuses_roles_that_never_read_values(self) -> None:
        for role in (StaffRole.AUDITOR, StaffRole.CONTRACTOR, StaffRole.ADMINISTRATOR):
            reader = staff(f"{role}.minburi", agency=self.minburi, role=role)
            with _policy({"name"}, self.minburi), self.assertRaises(gateway.AccessDenied):
                gateway.read(_request(reader), record=self.record, fields=["name"], purpose="service_delivery")

    def test_it_refuses_citizens(self) -> None:
        with _policy({"name"}, self.minburi), self.assertRaises(gateway.AccessDenied):
            gateway.read(_request(self.person), record=self.record, fields=["name"], purpose="service_delivery")

    def test_it_refuses_marketing_d2(self) -> None:
        with _policy({"name"}, self.minburi), self.assertRaises(gateway.AccessDenied):
            gateway.read(_request(self.officer), record=self.record, fields=["name"], purpose="marketing")
        self.assertEqual(
            (AuditEntry.objects.get().outcome, AuditEntry.objects.get().purpose), (Outcome.DENIED, "marketing")
        )

    def test_it_returns_nothing_when_the_audit_entry_cannot_be_written_s3(self) -> None:
        table = AuditEntry._meta.db_table
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute(
                    f"CREATE TRIGGER refuse_audit BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            else:
                cursor.execute(
                    "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql"
                    " AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$"
                )
                cursor.execute(
                    f"CREATE TRIGGER refuse_audit BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION refuse_audit()"
                )
        returned = None
        with _policy({"name"}, self.minburi), self.assertRaises(DatabaseError):
            returned = gateway.read(
                _request(self.officer), record=self.record, fields=["name"], purpose="service_delivery"
            )
        self.assertIsNone(returned)

    def test_it_audits_a_whole_list_in_one_commit_s3(self) -> None:
        owner = self.record.controller
        records = [self.record] + [
            dossier(_subject(citizen(f"person{i}")), owner, name=f"Person {i}") for i in range(20)
        ]
        # One more than the entries' commit needs: which of these people restricted the processing (s34).
        with _policy({"name"}, self.minburi), self.assertNumQueries(7, using="default"):
            values = gateway.read_many(
                _request(self.officer), records=records, fields=["name"], purpose="service_delivery"
            )
        self.assertEqual([row["name"] for row in values], ["Somsri Jaidee"] + [f"Person {i}" for i in range(20)])
        self.assertEqual(AuditEntry.objects.filter(action="gateway.read", outcome=Outcome.ALLOWED).count(), 21)

    def test_it_opens_a_list_of_many_people_with_one_key_store_query(self) -> None:
        owner = self.record.controller
        records = [dossier(_subject(citizen(f"person{i}")), owner, name=f"Person {i}") for i in range(20)]
        records = list(Dossier.objects.filter(pk__in=[record.pk for record in records]))  # as a list view loads them
        with _policy({"name", "email"}, self.minburi), self.assertNumQueries(1, using=KEYSTORE):
            values = gateway.read_many(
                _request(self.officer), records=records, fields=["name", "email"], purpose="service_delivery"
            )
        self.assertEqual(sorted(row["name"] for row in values), sorted(f"Person {i}" for i in range(20)))

    def test_it_is_the_only_code_that_makes_staff_openers_s2(self) -> None:
        root = Path(settings.BASE_DIR) / "raksa"
        users = {
            str(path.relative_to(root))
            for path in root.rglob("*.py")
            if "/tests/" not in str(path) and re.search(r"\b_staff_opener\b", path.read_text())
        }
        self.assertEqual(users, {"vault/openers.py", "audit/gateway.py"})
        from raksa.vault.openers import _staff_opener

        with self.assertRaises(PermissionError):
            _staff_opener(subject_id=_subject(self.person).pk, fields=[], purpose="service_delivery")


class WhoLookedTests(DossierTests, TestCase):
    databases = "__all__"
    minburi: ClassVar[Agency]
    person: ClassVar[User]
    record: ClassVar[Dossier]
    officer: ClassVar[User]

    @classmethod
    def setUpTestData(cls) -> None:
        owner = controller("bma")
        cls.minburi = Agency.objects.create(
            controller=owner, slug="minburi", name_th="สำนักงานเขตมีนบุรี", name_en="Minburi District Office"
        )
        cls.person = citizen("somsri")
        cls.record = dossier(_subject(cls.person), owner, name="Somsri Jaidee", email="somsri@example.org")
        cls.officer = staff("officer.minburi", agency=cls.minburi)

    def _look(self) -> None:
        with _policy({"name", "email"}, self.minburi):
            gateway.read(
                _request(self.officer), record=self.record, fields=["name", "email"], purpose="service_delivery"
            )

    def test_it_shows_a_person_who_looked_when_why_and_on_what_basis_s3(self) -> None:
        self._look()
        self.client.force_login(self.person)
        response = self.client.get("/th/me/access-log/")
        self.assertContains(response, "officer.minburi")
        self.assertContains(response, "สำนักงานเขตมีนบุรี")
        self.assertContains(response, "ชื่อ")  # the field's category, in Thai
        self.assertContains(response, "อีเมล")
        self.assertNotContains(response, "Somsri Jaidee")
        self.assertEqual(response["Cache-Control"].count("no-store") + response["Cache-Control"].count("no-cache"), 2)

    def test_it_never_shows_another_persons_entries(self) -> None:
        self._look()
        self.client.force_login(citizen("someone.else"))
        self.assertNotContains(self.client.get("/en/me/access-log/"), "officer.minburi")

    def test_it_asks_anonymous_visitors_to_log_in(self) -> None:
        response = self.client.get("/en/me/access-log/")
        self.assertEqual(response.status_code, 302)

    def test_it_hides_reads_under_a_hold_until_its_date(self) -> None:
        self._look()
        now = timezone.now()
        investigator = staff("investigator.minburi", agency=self.minburi, role=StaffRole.INVESTIGATOR)
        actions.place_viewing_hold(
            actor=investigator,
            role=StaffRole.INVESTIGATOR,
            subject_id=_subject(self.person).pk,
            agency_id=self.minburi.pk,
            covers_from=now - timedelta(hours=1),
            covers_until=now + timedelta(hours=1),
            hidden_until=now + timedelta(days=30),
            reference="คำสั่งศาลอาญา ที่ 123/2569",
        )
        reads = entries_about(_subject(self.person).pk).filter(action="gateway.read")
        self.assertFalse(reads.exists())
        later = entries_about(_subject(self.person).pk, now=now + timedelta(days=31)).filter(action="gateway.read")
        self.assertEqual(later.count(), 1)
        self.assertTrue(
            AuditEntry.objects.filter(action="audit.viewing_hold_placed", actor_id=investigator.pk).exists()
        )

    def test_it_refuses_a_hold_without_a_reference(self) -> None:
        now = timezone.now()
        with self.assertRaisesMessage(ValueError, "legal reference"):
            actions.place_viewing_hold(
                actor=self.officer,
                role="investigator",
                subject_id=_subject(self.person).pk,
                agency_id=self.minburi.pk,
                covers_from=now,
                covers_until=now,
                hidden_until=now + timedelta(days=1),
                reference=" ",
            )
