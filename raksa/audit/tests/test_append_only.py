import tempfile
from pathlib import Path

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.test import TestCase

from raksa.audit.actions import record
from raksa.audit.chain import chain_pending
from raksa.audit.checkpoints import write_checkpoint
from raksa.audit.models import AuditCheckpoint, AuditEntry, AuditLink


class AppendOnlyTests(TestCase):
    """The database itself refuses to rewrite the log, whoever asks (triggers, on SQLite and PostgreSQL)."""

    databases = "__all__"

    def setUp(self) -> None:
        self.entry = record(action="vault.read", fields=["email"])

    def assert_refused(self, sql: str, params: list | None = None) -> None:
        with (
            self.assertRaisesMessage(DatabaseError, "append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, params)

    def test_it_refuses_to_edit_an_entry_s1(self) -> None:
        self.assert_refused("UPDATE audit_auditentry SET action = 'account.login'")
        self.assert_refused("UPDATE audit_auditentry SET fields = ''")
        chain_pending()
        self.assert_refused("UPDATE audit_auditentry SET outcome = 'denied'")
        self.assertEqual(AuditEntry.objects.get().action, "vault.read")

    def test_it_refuses_to_delete_an_entry_s1(self) -> None:
        self.assert_refused("DELETE FROM audit_auditentry")
        with self.assertRaisesMessage(DatabaseError, "append-only"), transaction.atomic():
            AuditEntry.objects.all().delete()
        self.assertEqual(AuditEntry.objects.count(), 1)

    def test_it_refuses_to_empty_the_table_s1(self) -> None:
        if connection.vendor != "postgresql":
            self.skipTest("SQLite has no TRUNCATE: it is DELETE, refused above")
        self.assert_refused("TRUNCATE audit_auditentry")
        self.assert_refused("TRUNCATE audit_auditcheckpoint")

    def test_it_refuses_to_change_or_remove_a_link_s1(self) -> None:
        self.assertEqual(chain_pending(), 1)
        self.assert_refused("UPDATE audit_auditlink SET hash = %s", ["f" * 64])
        self.assert_refused("UPDATE audit_auditlink SET sequence = 2")
        self.assert_refused("DELETE FROM audit_auditlink")
        if connection.vendor == "postgresql":
            self.assert_refused("TRUNCATE audit_auditlink")
        self.assertEqual(AuditLink.objects.get().sequence, 1)

    def test_it_chains_an_entry_only_once(self) -> None:
        link = (chain_pending(), AuditLink.objects.get())[1]
        with self.assertRaises(IntegrityError), transaction.atomic():
            AuditLink.objects.create(sequence=2, entry_id=link.entry_id, prev_hash=link.hash, hash="f" * 64)
        with self.assertRaises(IntegrityError), transaction.atomic():
            AuditLink.objects.create(sequence=1, entry_id=link.entry_id + 1, prev_hash="0" * 64, hash="f" * 64)

    def test_it_refuses_to_change_a_checkpoint_s1(self) -> None:
        chain_pending()
        with tempfile.TemporaryDirectory() as directory:
            write_checkpoint(file=Path(directory) / "checkpoints.jsonl")
        self.assert_refused("UPDATE audit_auditcheckpoint SET hash = %s", ["f" * 64])
        self.assert_refused("DELETE FROM audit_auditcheckpoint")
        self.assertEqual(AuditCheckpoint.objects.count(), 1)
