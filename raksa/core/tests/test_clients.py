from django.core.exceptions import ImproperlyConfigured
from django.test import SimpleTestCase, override_settings

from raksa.core.clients import client_address
from raksa.env import env_networks

PROXIES = env_networks("RAKSA_TEST_NO_SUCH_VARIABLE", ("10.0.0.5", "172.16.0.0/12"))


class ClientAddressTests(SimpleTestCase):
    """X-Forwarded-For is believed only from a configured proxy; anyone can write the header."""

    def test_it_takes_the_peer_when_no_proxy_is_trusted(self) -> None:
        meta = {"REMOTE_ADDR": "203.0.113.7", "HTTP_X_FORWARDED_FOR": "198.51.100.1"}
        self.assertEqual(client_address(meta), "203.0.113.7")

    @override_settings(RAKSA_TRUSTED_PROXIES=PROXIES)
    def test_it_takes_the_forwarded_client_from_a_trusted_proxy(self) -> None:
        meta = {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "198.51.100.1, 172.16.4.4"}
        self.assertEqual(client_address(meta), "198.51.100.1")

    @override_settings(RAKSA_TRUSTED_PROXIES=PROXIES)
    def test_it_ignores_the_header_from_anyone_else(self) -> None:
        meta = {"REMOTE_ADDR": "203.0.113.7", "HTTP_X_FORWARDED_FOR": "198.51.100.1"}
        self.assertEqual(client_address(meta), "203.0.113.7")

    @override_settings(RAKSA_TRUSTED_PROXIES=PROXIES)
    def test_it_does_not_let_a_client_forge_the_hops_before_the_proxy(self) -> None:
        # The client wrote "1.2.3.4" itself; the proxy appended the address it really saw.
        meta = {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "1.2.3.4, 198.51.100.1"}
        self.assertEqual(client_address(meta), "198.51.100.1")
        meta = {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "1.2.3.4, not-an-address"}
        self.assertEqual(client_address(meta), "10.0.0.5")
        self.assertEqual(client_address({"REMOTE_ADDR": "10.0.0.5"}), "10.0.0.5")

    def test_it_refuses_a_setting_that_is_not_an_address_or_network(self) -> None:
        with self.assertRaises(ImproperlyConfigured):
            env_networks("RAKSA_TEST_NO_SUCH_VARIABLE", ("10.0.0.0/33",))
