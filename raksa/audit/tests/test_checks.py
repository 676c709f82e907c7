from django.db import connection, transaction
from django.test import TestCase

from raksa.audit.checks import check_append_only_triggers
from raksa.audit.triggers import triggers_lifted


class TriggerCheckTests(TestCase):
    databases = "__all__"

    def test_it_passes_when_the_triggers_are_in_place(self) -> None:
        self.assertEqual(check_append_only_triggers(None, databases=["default"]), [])

    def test_it_fails_when_a_trigger_is_gone_s1(self) -> None:
        with transaction.atomic(), triggers_lifted(connection):
            errors = check_append_only_triggers(None, databases=["default"])
        self.assertEqual([error.id for error in errors], ["audit.E001"])
        self.assertIn("audit_entry_no_delete", errors[0].msg)

    def test_it_looks_at_the_database_only_when_asked(self) -> None:
        with transaction.atomic(), triggers_lifted(connection):
            self.assertEqual(check_append_only_triggers(None, databases=None), [])
