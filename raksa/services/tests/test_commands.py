import io

from django.core.management import call_command
from django.test import TestCase

from raksa.services.models import Kind, Registration, Service
from raksa.services.processing import fields_in_force


class DemoTests(TestCase):
    databases = "__all__"

    def test_it_loads_a_minburi_service_and_activity_once_with_the_demo_officer_assigned(self) -> None:
        call_command("demo", "--once", stdout=io.StringIO())
        call_command("demo", "--once", stdout=io.StringIO())
        services = Service.objects.filter(agency__slug="minburi")
        self.assertEqual(sorted(services.values_list("kind", flat=True)), [Kind.ACTIVITY, Kind.SERVICE])
        for service in services:
            self.assertEqual([o.user.username for o in service.officers.all()], ["officer.minburi"])
            self.assertTrue(service.fields.filter(category="name").exists())
            # The demo policies are published after the services: every field is in force.
            self.assertEqual(len(fields_in_force(list(service.fields.all()))), service.fields.count())
        self.assertEqual(services.get(kind=Kind.ACTIVITY).capacity, 30)


class EraseExpiredTests(TestCase):
    databases = "__all__"

    def test_it_reports_how_many_registrations_it_erased(self) -> None:
        out = io.StringIO()
        call_command("retention", "run", "--rule", "services.registration", stdout=out)
        self.assertIn("Retention run ended 0 record(s)", out.getvalue())
        self.assertFalse(Registration.objects.exists())
