import io

from django.core.management import call_command
from django.test import TestCase

from raksa.consent import policies
from raksa.disclosures.models import Recipient
from raksa.organisations.models import Agency


class DemoTests(TestCase):
    databases = "__all__"

    def test_it_loads_demo_recipients_that_the_first_demo_policy_covers_d1(self) -> None:
        call_command("demo", "--once", stdout=io.StringIO())
        call_command("demo", "--once", stdout=io.StringIO())
        minburi = Agency.objects.get(slug="minburi")
        self.assertEqual(Recipient.objects.filter(agency=minburi).count(), 2)
        self.assertEqual(policies.pending_changes(minburi), [])
        current = policies.current_policy(minburi)
        assert current is not None
        self.assertIn("Thailand Post", current.markdown_en)
