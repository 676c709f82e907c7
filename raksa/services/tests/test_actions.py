import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import skipUnless

import psycopg
from django.contrib.admin import site
from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError, connection
from django.test import RequestFactory, TestCase, TransactionTestCase, override_settings
from django.utils import translation

from raksa.accounts.models import User
from raksa.audit.models import AuditEntry
from raksa.retention.actions import run_retention
from raksa.services import actions
from raksa.services.admin import ServiceAdmin, ServiceForm
from raksa.services.models import CaseNote, NoticeVersion, Registration, Service, Status
from raksa.services.tests import builders
from raksa.vault.openers import Opener

IMMEDIATE_TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


class DeclaringTests(TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        self.service = builders.certificate(builders.agency(), fields=())

    def declare(self, category: str, *, purpose: str = "service_delivery", basis: str = "pdpa_24_4") -> None:
        actions.declare_field(service=self.service, category=category, purpose=purpose, legal_basis=basis, actor=None)

    def test_it_refuses_a_category_the_registry_does_not_know_c3(self) -> None:
        with self.assertRaisesMessage(actions.DeclarationError, "no category 'blood_type'"):
            self.declare("blood_type")
        self.assertFalse(self.service.fields.exists())

    def test_it_refuses_a_technical_category_on_a_form_c1(self) -> None:
        with self.assertRaisesMessage(actions.DeclarationError, "not collected on a form"):
            self.declare("ip_address")

    def test_it_refuses_a_sensitive_category_without_explicit_consent(self) -> None:
        with self.assertRaisesMessage(actions.DeclarationError, "explicit consent"):
            self.declare("health", basis="pdpa_24_4")
        with self.assertRaisesMessage(actions.DeclarationError, "only for service_delivery_sensitive"):
            self.declare("health", basis="explicit_consent")
        self.declare("health", purpose="service_delivery_sensitive", basis="explicit_consent")
        self.assertTrue(self.service.fields.filter(category="health").exists())

    def test_it_refuses_marketing_and_purposes_beyond_the_registry_p3(self) -> None:
        with self.assertRaisesMessage(actions.DeclarationError, "refused"):
            self.declare("email", purpose="marketing")
        with self.assertRaisesMessage(actions.DeclarationError, "only for"):
            self.declare("national_id", purpose="contact")

    def test_it_assigns_only_officers_of_the_services_agency(self) -> None:
        other = builders.officer("officer.other", builders.agency("other", "most"))
        with self.assertRaises(actions.DeclarationError):
            actions.assign_officer(service=self.service, staff=other, actor=None)

    def test_it_lets_a_service_seen_before_a_change_answer_with_the_change(self) -> None:
        # A service's officers and legal bases are worked out once per instance (its access policy asks
        # for every row of a queue): an instance read before an assignment or a declaration must not lag.
        officer = builders.officer("officer.new", self.service.agency)
        self.assertNotIn(officer.pk, self.service.officer_ids)
        self.assertEqual(self.service.legal_bases, {})
        actions.assign_officer(service=self.service, staff=officer, actor=None)
        self.declare("name", basis="pdpa_24_3")
        self.assertIn(officer.pk, self.service.officer_ids)
        self.assertEqual(self.service.legal_bases, {"name": "pdpa_24_3"})

    def test_it_keeps_the_registry_declarations_valid(self) -> None:
        # Every column is declared with its own category, so the vault and the gateway know each value's kind.
        from raksa.registry import registry

        for column in ("name", "national_id", "health"):
            self.assertEqual(registry.declaration(Registration, column).category.code, column)
        self.assertRaises(
            ImproperlyConfigured,
            registry.declare,
            "services.Registration",
            "name",
            category=registry.category("name"),
            purposes=[registry.purpose("contact")],
            legal_basis=registry.legal_basis("pdpa_24_4"),
        )


class NoticeTests(TestCase):
    databases = "__all__"

    def test_it_generates_a_new_notice_version_when_the_declaration_changes(self) -> None:
        service = builders.certificate(builders.agency(), fields=("name",))
        first = actions.current_notice(service)
        self.assertEqual(actions.current_notice(service), first)
        self.assertEqual([f["category"] for f in first.content["fields"]], ["name"])
        actions.declare_field(
            service=service, category="phone", purpose="contact", legal_basis="pdpa_24_4", required=False, actor=None
        )
        # A new field waits for a published policy that covers it (DESIGN decision 11).
        self.assertEqual(actions.current_notice(service), first)
        builders.publish_policy(service.agency)
        second = actions.current_notice(service)
        self.assertEqual(second.number, first.number + 1)
        phone = second.content["fields"][1]
        self.assertEqual(phone["purpose"]["th"], "ติดต่อท่าน")
        self.assertFalse(phone["required"])
        self.assertEqual(NoticeVersion.objects.filter(service=service).count(), 2)


@override_settings(TASKS=IMMEDIATE_TASKS)
class RegisteringTests(TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        self.office = builders.agency()
        self.service = builders.certificate(self.office)
        self.person = builders.citizen()

    def test_it_refuses_a_value_the_service_did_not_declare_c1(self) -> None:
        notice = actions.current_notice(self.service)
        with self.assertRaises(actions.UndeclaredFieldError):
            actions.register(
                service=self.service,
                subject=builders.subject_of(self.person),
                values={**builders.CERTIFICATE_VALUES, "religion": "พุทธ"},
                notice_number=notice.number,
                submission_key=uuid.uuid4(),
                actor=self.person,
            )
        self.assertFalse(Registration.objects.exists())

    def test_it_seals_values_and_records_the_notice_version(self) -> None:
        registration = builders.registration(self.service, self.person, **builders.CERTIFICATE_VALUES)
        raw = Registration.objects.filter(pk=registration.pk).values_list("national_id", flat=True).get()
        assert isinstance(raw, bytes)
        self.assertNotIn(builders.NATIONAL_ID.encode(), raw)
        self.assertEqual(
            Opener.for_subject(builders.subject_of(self.person).pk).open(
                Registration.objects.get(pk=registration.pk).national_id
            ),
            builders.NATIONAL_ID,
        )
        self.assertEqual(registration.notice, actions.current_notice(self.service))
        entry = AuditEntry.objects.get(action="services.registered")
        self.assertEqual(entry.subject_id, self.person.subject_id)
        self.assertNotIn(builders.NATIONAL_ID, str(entry.__dict__))

    def test_it_creates_one_registration_for_a_form_sent_twice(self) -> None:
        notice = actions.current_notice(self.service)
        key = uuid.uuid4()
        values = builders.CERTIFICATE_VALUES
        subject = builders.subject_of(self.person)

        def submit() -> tuple[Registration, bool]:
            return actions.register(
                service=self.service,
                subject=subject,
                values=values,
                notice_number=notice.number,
                submission_key=key,
                actor=self.person,
            )

        first, created = submit()
        second, again = submit()
        self.assertTrue(created)
        self.assertFalse(again)
        self.assertEqual(first.pk, second.pk)
        self.assertEqual(Registration.objects.count(), 1)

    def test_it_refuses_a_closed_service(self) -> None:
        self.service.is_open = False
        self.service.save()
        with self.assertRaises(actions.ServiceClosedError):
            builders.registration(self.service, self.person)

    def test_it_refuses_a_notice_the_person_did_not_see(self) -> None:
        notice = actions.current_notice(self.service)
        actions.declare_field(
            service=self.service,
            category="workplace",
            purpose="service_delivery",
            legal_basis="pdpa_24_4",
            required=False,
            actor=None,
        )
        builders.publish_policy(self.office)
        with self.assertRaises(actions.NoticeChangedError):
            actions.register(
                service=self.service,
                subject=builders.subject_of(self.person),
                values=builders.CERTIFICATE_VALUES,
                notice_number=notice.number,
                submission_key=uuid.uuid4(),
                actor=self.person,
            )


@override_settings(TASKS=IMMEDIATE_TASKS)
class WaitingListTests(TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        self.workshop = builders.activity(builders.agency(), capacity=2)
        self.people = [builders.citizen(f"person{index}") for index in range(4)]

    def test_it_promotes_the_first_on_the_waiting_list_when_a_seat_frees(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            registrations = [builders.registration(self.workshop, person) for person in self.people]
        self.assertEqual(
            [r.status for r in registrations], [Status.RECEIVED, Status.RECEIVED, Status.WAITLISTED, Status.WAITLISTED]
        )
        with self.captureOnCommitCallbacks(execute=True):
            actions.cancel_registration(registration=registrations[0], actor=self.people[0])
        statuses = {r.pk: r.status for r in Registration.objects.all()}
        self.assertEqual(statuses[registrations[0].pk], Status.CANCELLED)
        self.assertEqual(statuses[registrations[2].pk], Status.RECEIVED)
        self.assertEqual(statuses[registrations[3].pk], Status.WAITLISTED)
        self.assertTrue(
            AuditEntry.objects.filter(
                action="services.promoted_from_waiting_list", object_id=str(registrations[2].pk)
            ).exists()
        )

    def test_it_gives_a_persons_second_registration_back_as_the_first(self) -> None:
        first = builders.registration(self.workshop, self.people[0])
        self.assertEqual(builders.registration(self.workshop, self.people[0]).pk, first.pk)

    def test_it_promotes_the_waiting_list_when_seats_are_added(self) -> None:
        registrations = [builders.registration(self.workshop, person) for person in self.people]
        with self.captureOnCommitCallbacks(execute=True):
            actions.change_service(service=self.workshop, actor=None, capacity=3)
        statuses = [Registration.objects.get(pk=r.pk).status for r in registrations]
        self.assertEqual(statuses, [Status.RECEIVED, Status.RECEIVED, Status.RECEIVED, Status.WAITLISTED])
        self.assertTrue(AuditEntry.objects.filter(action="services.service_changed", fields="capacity").exists())

    def test_it_refuses_a_capacity_below_the_seats_taken(self) -> None:
        for person in self.people[:2]:
            builders.registration(self.workshop, person)
        with self.assertRaises(actions.DeclarationError):
            actions.change_service(service=self.workshop, actor=None, capacity=1)
        self.workshop.refresh_from_db()
        self.assertEqual(self.workshop.capacity, 2)

    def test_it_keeps_a_waiting_registration_waiting_while_the_activity_is_full(self) -> None:
        registrations = [builders.registration(self.workshop, person) for person in self.people[:3]]
        officer = builders.officer("officer", self.workshop.agency)
        with self.assertRaises(actions.NoSeatLeftError):
            actions.change_status(registration=registrations[2], staff=officer, status=Status.APPROVED)
        self.assertEqual(Registration.objects.get(pk=registrations[2].pk).status, Status.WAITLISTED)
        actions.change_status(registration=registrations[0], staff=officer, status=Status.REJECTED, reason="ซ้ำ")
        self.assertEqual(Registration.objects.get(pk=registrations[2].pk).status, Status.RECEIVED)
        actions.change_status(registration=registrations[2], staff=officer, status=Status.APPROVED)
        self.assertEqual(Registration.objects.get(pk=registrations[2].pk).status, Status.APPROVED)


class RetentionTests(TestCase):
    databases = "__all__"

    def test_it_erases_values_after_the_services_retention(self) -> None:
        import datetime

        from django.utils import timezone

        service = builders.certificate(builders.agency(), fields=("name", "phone"))
        service.retention_days = 30
        service.save()
        person = builders.citizen()
        registration = builders.registration(service, person, phone="081 234 5678")
        officer = builders.officer("officer.minburi", service.agency)
        actions.change_status(registration=registration, staff=officer, status=Status.REJECTED, reason="เอกสารไม่ครบ")
        open_case = builders.registration(service, builders.citizen("somsri"), phone="089 765 4321")
        actions.add_note(registration=open_case, staff=officer, text="โทรกลับพรุ่งนี้")
        self.assertTrue(CaseNote.objects.filter(registration=registration).exists())
        now = timezone.now()
        (kept,) = run_retention(now=now + datetime.timedelta(days=29), only=["services.registration"])
        (ended,) = run_retention(now=now + datetime.timedelta(days=31), only=["services.registration"])
        self.assertEqual((kept.total, ended.total), (0, 1))
        erased = Registration.objects.get(pk=registration.pk)
        self.assertIsNone(erased.name)
        self.assertIsNone(erased.phone)
        self.assertIsNotNone(erased.erased_at)
        self.assertFalse(CaseNote.objects.filter(registration=registration).exists())
        self.assertEqual(CaseNote.objects.filter(registration=open_case).count(), 1)

    def test_it_writes_nothing_more_to_a_case_whose_values_were_erased(self) -> None:
        # An officer could still open an erased case and add a note: sealed under a new key that no
        # retention run would ever end (the rule passes over erased registrations).
        import datetime

        from django.utils import timezone

        service = builders.certificate(builders.agency(), fields=("name",))
        service.retention_days = 30
        service.save()
        registration = builders.registration(service, builders.citizen())
        officer = builders.officer("officer.minburi", service.agency)
        actions.change_status(registration=registration, staff=officer, status=Status.REJECTED, reason="เอกสารไม่ครบ")
        run_retention(now=timezone.now() + datetime.timedelta(days=31), only=["services.registration"])
        erased = Registration.objects.get(pk=registration.pk)

        with self.assertRaises(actions.CaseErasedError):
            actions.add_note(registration=erased, staff=officer, text="โทรกลับพรุ่งนี้")
        with self.assertRaises(actions.CaseErasedError):
            actions.change_status(registration=erased, staff=officer, status=Status.APPROVED, reason="ตรวจแล้ว")

        self.assertFalse(CaseNote.objects.filter(registration=registration).exists())
        self.assertEqual(Registration.objects.get(pk=registration.pk).status, Status.REJECTED)


class AdministeringTests(TestCase):
    """The admin's service form saves through the actions: audited, indexed, and the waiting list promoted."""

    databases = "__all__"

    def setUp(self) -> None:
        self.workshop = builders.activity(builders.agency(), capacity=1)
        self.people = [builders.citizen(f"person{index}") for index in range(2)]
        self.registrations = [builders.registration(self.workshop, person) for person in self.people]
        self.admin = User.objects.create_superuser("admin", "admin-password")
        self.model_admin = ServiceAdmin(Service, site)

    def _form(self, **changes: object) -> ServiceForm:
        data = {name: getattr(self.workshop, name) for name in ServiceForm.Meta.fields if name != "officers"}
        data |= {"agency": self.workshop.agency_id, "officers": [], **changes}
        return ServiceForm(data, instance=self.workshop)

    def test_it_promotes_the_waiting_list_when_an_administrator_adds_seats(self) -> None:
        form = self._form(capacity=2)
        self.assertTrue(form.is_valid(), form.errors)
        request = RequestFactory().post("/admin/")
        request.user = self.admin
        with self.captureOnCommitCallbacks(execute=True):
            self.model_admin.save_model(request, form.save(commit=False), form, change=True)
        self.assertEqual(Registration.objects.get(pk=self.registrations[1].pk).status, Status.RECEIVED)
        self.assertEqual(AuditEntry.objects.get(action="services.service_changed").actor_id, self.admin.pk)

    def test_it_explains_a_capacity_below_the_seats_taken_on_its_field(self) -> None:
        with translation.override("th"):
            form = self._form(capacity=0)
            self.assertFalse(form.is_valid())
        self.assertIn("ที่นั่ง", form.errors["capacity"][0])

    def test_it_refuses_an_officer_of_another_agency(self) -> None:
        stranger = builders.officer("stranger", builders.agency("other", "other"))
        form = self._form(officers=[stranger.pk])
        self.assertFalse(form.is_valid())
        self.assertIn("officers", form.errors)


@skipUnless(connection.vendor == "postgresql", "row locks are PostgreSQL's")
class RegistrationLockTests(TransactionTestCase):
    databases = "__all__"

    @contextmanager
    def registration_in_flight(self, service: Service) -> Iterator[None]:
        """Another server thread's registration for a service without seats, holding its row shared."""
        database = connection.settings_dict
        with psycopg.connect(
            dbname=database["NAME"], user=database["USER"], host=database["HOST"], port=database["PORT"] or None
        ) as other:
            other.execute("SELECT 1 FROM services_service WHERE id = %s FOR SHARE", [service.pk])
            yield

    @contextmanager
    def waiting_at_most_a_second(self) -> Iterator[None]:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '1s'")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = DEFAULT")

    def test_it_registers_for_a_service_without_seats_beside_another_registration(self) -> None:
        service = builders.certificate(builders.agency(), fields=("name", "email"))
        with self.registration_in_flight(service), self.waiting_at_most_a_second():
            builders.registration(service, builders.citizen())
        self.assertEqual(Registration.objects.filter(service=service).count(), 1)

    def test_it_closes_a_service_only_once_the_registrations_in_flight_are_done(self) -> None:
        service = builders.certificate(builders.agency())
        in_flight = self.registration_in_flight(service)
        with in_flight, self.waiting_at_most_a_second(), self.assertRaises(OperationalError):
            actions.change_service(service=service, actor=None, is_open=False)
        actions.change_service(service=service, actor=None, is_open=False)
