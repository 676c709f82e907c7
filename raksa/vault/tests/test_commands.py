from io import StringIO

from django.conf import settings
from django.core.management import call_command
from django.test import TestCase

from raksa import devkeys
from raksa.vault.tests import factories


class KeysCommandTests(factories.DossierTests, TestCase):
    databases = "__all__"

    def test_it_generates_a_fresh_set_of_keys(self) -> None:
        first, second = StringIO(), StringIO()
        call_command("keys", "generate", stdout=first)
        call_command("keys", "generate", stdout=second)
        lines = first.getvalue().splitlines()
        self.assertEqual([line.partition("=")[0] for line in lines], list(devkeys.KEY_NAMES))
        self.assertTrue(all(line.partition("=")[2] for line in lines))
        self.assertNotEqual(first.getvalue(), second.getvalue())

    def test_it_rotates_the_master_key(self) -> None:
        factories.dossier(factories.person(), factories.controller(), name="Somsri")
        new_master = devkeys.generate_keys()["RAKSA_MASTER_KEY"].replace("m", "next-m", 1)
        output = StringIO()
        with self.settings(RAKSA_MASTER_KEY=new_master, RAKSA_PREVIOUS_MASTER_KEYS=[settings.RAKSA_MASTER_KEY]):
            call_command("keys", "rotate", stdout=output)
        self.assertIn(f"re-wrapped 1 data keys under master key {new_master.partition(':')[0]}", output.getvalue())
