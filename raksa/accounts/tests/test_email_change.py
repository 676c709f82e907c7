from django.test import TestCase, override_settings

from raksa.accounts import actions, addresses
from raksa.testing import accounts as personas
from raksa.testing.mailbox import links, running

ORIGIN = "http://testserver"


class EmailChangeTests(TestCase):
    databases = "__all__"

    def setUp(self) -> None:
        personas.platform_operator()
        self.user = personas.citizen("malee")
        addresses.store(self.user, "malee@example.org")

    def change(self, email: str) -> None:
        actions.change_email(user=self.user, email=email, origin=ORIGIN, language="th")

    def test_it_refuses_a_link_mailed_for_an_earlier_address(self) -> None:
        running().clear()
        with override_settings(TASKS=personas.IMMEDIATE_TASKS):
            self.change("first@example.org")
        [message] = running().received(to="first@example.org")
        # A second address is asked for; its mail has not gone yet (the task queue is behind).
        self.change("second@example.org")
        self.assertEqual(self.client.post(links(message)[0]).status_code, 400)
        self.assertEqual(addresses.open_for_mailer(self.user), "malee@example.org")
