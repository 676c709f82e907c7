import io
import os
from unittest import mock

from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection
from django.db.migrations.executor import MigrationExecutor
from django.test import TransactionTestCase

from raksa.accounts.models import User

BEFORE = [("accounts", "0007_username_upper_index")]
UNIQUE_IN_ANY_CASE = [("accounts", "0008_username_unique_in_any_case")]


class UsernameInAnyCaseMigrationTests(TransactionTestCase):
    """Migration 0008 makes a user ID unique in any case; a database made before it may hold two
    accounts whose IDs differ only in case."""

    def migrate(self, targets: list[tuple[str, str]]) -> None:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(targets)

    def test_it_stops_without_changing_anything_and_names_no_user_id(self) -> None:
        self.migrate(BEFORE)
        self.addCleanup(self.migrate, UNIQUE_IN_ANY_CASE)
        historical = MigrationExecutor(connection).loader.project_state(BEFORE).apps.get_model("accounts", "User")
        historical.objects.create(username="somchai", password="!")
        clash = historical.objects.create(username="Somchai", password="!")
        with self.assertRaises(RuntimeError) as stopped:
            self.migrate(UNIQUE_IN_ANY_CASE)
        self.assertIn("differing only in case: 1.", str(stopped.exception))
        self.assertNotIn("omchai", str(stopped.exception).lower())
        self.assertEqual(historical.objects.count(), 2)

        historical.objects.filter(pk=clash.pk).update(username="somchai2")
        self.migrate(UNIQUE_IN_ANY_CASE)
        with self.assertRaises(IntegrityError):
            User.objects.create_user("SOMCHAI", "a long and unguessable passphrase")

    def test_it_refuses_a_taken_user_id_in_another_case_to_createsuperuser(self) -> None:
        User.objects.create_user("somchai", "a long and unguessable passphrase")
        with (
            mock.patch.dict(os.environ, {"DJANGO_SUPERUSER_PASSWORD": "a long and unguessable passphrase"}),
            self.assertRaisesMessage(CommandError, "is already taken"),
        ):
            call_command("createsuperuser", "--noinput", "--username", "SOMCHAI", stdout=io.StringIO())
        self.assertEqual(User.objects.count(), 1)
