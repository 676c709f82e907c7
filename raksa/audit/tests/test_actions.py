import uuid
from datetime import timedelta

from django.db import connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.test import TestCase, TransactionTestCase

from raksa.audit.actions import AuditNotDurableError, record, record_committed
from raksa.audit.context import current_request_id, request_id_scope
from raksa.audit.models import AuditEntry, AuditLink
from raksa.subjects.models import Subject


class RecordTests(TestCase):
    databases = "__all__"

    def test_it_records_who_did_what_to_whom_by_ids_and_field_names_only_s3(self) -> None:
        subject = Subject.objects.create()
        entry = record(
            action="vault.read",
            role="officer",
            subject_id=subject.pk,
            object_type="registration",
            object_id=uuid.UUID(int=7),
            fields=["email", "phone"],
            purpose="deliver_service",
            legal_basis="pdpa_s24_3",
        )
        stored = AuditEntry.objects.get(pk=entry.pk)
        self.assertEqual(stored.subject_id, subject.pk)
        self.assertEqual(stored.field_names, ["email", "phone"])
        self.assertEqual(stored.object_id, "00000000-0000-0000-0000-000000000007")
        self.assertEqual(stored.outcome, "allowed")
        self.assertFalse(AuditLink.objects.filter(entry=stored).exists())
        self.assertEqual(stored.time.utcoffset(), timedelta(0))

    def test_it_refuses_values_where_names_and_codes_belong_s1(self) -> None:
        for bad in (
            {"action": "login"},
            {"action": "vault.read", "fields": ["somchai@example.com"]},
            {"action": "vault.read", "purpose": "call Somchai about his request"},
            {"action": "vault.read", "object_id": "3100600445635 Somchai"},
            {"action": "vault.read", "outcome": "maybe"},
        ):
            with self.subTest(bad=bad), self.assertRaises(ValueError):
                record(**bad)
        self.assertFalse(AuditEntry.objects.exists())

    def test_it_rolls_back_with_the_change_it_records(self) -> None:
        with self.assertRaises(RuntimeError), transaction.atomic():
            record(action="account.login")
            raise RuntimeError("the change failed")
        self.assertFalse(AuditEntry.objects.exists())

    def test_it_names_an_anonymous_actor_as_nobody(self) -> None:
        from django.contrib.auth.models import AnonymousUser

        self.assertIsNone(record(action="account.login", actor=AnonymousUser(), outcome="denied").actor_id)

    def test_it_carries_the_request_id(self) -> None:
        self.assertIsNone(current_request_id())
        with request_id_scope() as request_id:
            entry = record(action="account.login")
        self.assertEqual(entry.request_id, request_id)
        self.assertEqual(len(request_id), 32)

    def test_it_gives_each_request_its_own_id(self) -> None:
        first = self.client.get("/th/")
        second = self.client.get("/th/")
        self.assertRegex(first["X-Request-ID"], r"^[0-9a-f]{32}$")
        self.assertNotEqual(first["X-Request-ID"], second["X-Request-ID"])

    def test_it_commits_outside_a_transaction_even_under_testcase(self) -> None:
        entry = record_committed(action="vault.read", outcome="denied")
        self.assertTrue(AuditEntry.objects.filter(pk=entry.pk, outcome="denied").exists())


class RecordCommittedTests(TransactionTestCase):
    """record_committed inside a transaction: commits apart on PostgreSQL, refuses on SQLite."""

    databases = "__all__"

    def test_it_keeps_the_entry_when_the_callers_transaction_rolls_back_s3(self) -> None:
        if connection.vendor == "sqlite":
            self.skipTest("SQLite has one writer: inside a transaction record_committed refuses (tested below)")
        with self.assertRaises(RuntimeError), transaction.atomic():
            Subject.objects.create()
            entry = record_committed(action="vault.read", fields=["email"])
            raise RuntimeError("the caller fails after reading")
        self.assertFalse(Subject.objects.exists())
        self.assertTrue(AuditEntry.objects.filter(pk=entry.pk, action="vault.read").exists())

    def test_it_commits_before_returning_on_postgresql(self) -> None:
        if connection.vendor == "sqlite":
            self.skipTest("SQLite has one writer: inside a transaction record_committed refuses (tested below)")
        observer = connections.create_connection("default")
        try:
            with transaction.atomic():
                entry = record_committed(action="vault.read")
                with observer.cursor() as cursor:
                    cursor.execute("SELECT action FROM audit_auditentry WHERE id = %s", [entry.pk])
                    self.assertEqual(cursor.fetchone(), ("vault.read",))
        finally:
            observer.close()

    def opened_apart(self) -> list[BaseDatabaseWrapper]:
        """The connections opened from here on other than the test's own (record_committed's)."""
        opened: list[BaseDatabaseWrapper] = []

        def created(sender: object, connection: BaseDatabaseWrapper, **kwargs: object) -> None:
            if connection is not connections["default"] and connection is not connections["keystore"]:
                opened.append(connection)

        connection_created.connect(created)
        self.addCleanup(connection_created.disconnect, created)
        return opened

    def one_entry_apart(self) -> tuple[list[BaseDatabaseWrapper], BaseDatabaseWrapper]:
        """One entry committed inside a transaction; the connections opened, and the one it kept."""
        opened = self.opened_apart()
        with transaction.atomic():
            record_committed(action="vault.read")
        [kept] = opened
        return opened, kept

    def test_it_commits_entries_apart_on_one_kept_connection_not_one_each(self) -> None:
        if connection.vendor == "sqlite":
            self.skipTest("SQLite has one writer: inside a transaction record_committed refuses (tested below)")
        opened = self.opened_apart()
        with transaction.atomic():
            entries = [record_committed(action="vault.read") for _ in range(3)]
        self.assertEqual(len(opened), 1)
        self.assertEqual(AuditEntry.objects.filter(pk__in=[entry.pk for entry in entries]).count(), 3)

    def test_it_replaces_a_kept_connection_the_server_ended(self) -> None:
        if connection.vendor == "sqlite":
            self.skipTest("SQLite has one writer: inside a transaction record_committed refuses (tested below)")
        opened, kept = self.one_entry_apart()
        with connection.cursor() as cursor:  # as a restarted server or an idle timeout would
            cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [kept.connection.info.backend_pid])
        with transaction.atomic():
            entry = record_committed(action="vault.read")
        self.assertEqual(len(opened), 2)
        self.assertTrue(AuditEntry.objects.filter(pk=entry.pk).exists())

    def test_it_closes_the_kept_connection_at_the_end_of_a_request_once_obsolete(self) -> None:
        if connection.vendor == "sqlite":
            self.skipTest("SQLite has one writer: inside a transaction record_committed refuses (tested below)")
        _opened, kept = self.one_entry_apart()
        self.assertEqual(kept.settings_dict["CONN_MAX_AGE"], 0)  # the tests' setting: obsolete at once
        self.client.get("/healthz")
        self.assertIsNone(kept.connection)

    def test_it_refuses_inside_a_transaction_on_sqlite_and_writes_nothing(self) -> None:
        if connection.vendor != "sqlite":
            self.skipTest("on PostgreSQL the entry commits on its own connection (tested above)")
        with transaction.atomic():
            with self.assertRaises(AuditNotDurableError):
                record_committed(action="vault.read")
            self.assertFalse(AuditEntry.objects.exists())
        self.assertFalse(AuditEntry.objects.exists())
