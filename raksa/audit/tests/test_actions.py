import uuid
from datetime import timedelta

from django.db import connection, connections, transaction
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

    def test_it_refuses_inside_a_transaction_on_sqlite_and_writes_nothing(self) -> None:
        if connection.vendor != "sqlite":
            self.skipTest("on PostgreSQL the entry commits on its own connection (tested above)")
        with transaction.atomic():
            with self.assertRaises(AuditNotDurableError):
                record_committed(action="vault.read")
            self.assertFalse(AuditEntry.objects.exists())
        self.assertFalse(AuditEntry.objects.exists())
