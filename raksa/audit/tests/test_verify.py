import io
import json
import tempfile
from datetime import timedelta
from pathlib import Path

from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from django.test import TestCase, TransactionTestCase, override_settings
from django.utils import timezone

from raksa.audit.actions import record
from raksa.audit.chain import chain_pending, entry_hash, walk
from raksa.audit.models import AuditEntry
from raksa.audit.triggers import triggers_lifted


def audit(*args: str) -> str:
    out = io.StringIO()
    call_command("audit", *args, stdout=out)
    return out.getvalue()


class VerifyTests(TestCase):
    """`raksa audit verify` names the first bad entry of a tampered log and exits non-zero (S3, S1)."""

    databases = "__all__"

    def setUp(self) -> None:
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        self.checkpoints = Path(directory.name) / "checkpoints.jsonl"
        settings_override = override_settings(RAKSA_AUDIT_CHECKPOINT_FILE=self.checkpoints)
        settings_override.enable()
        self.addCleanup(settings_override.disable)
        for number in range(5):
            record(action="vault.read", fields=["email"], object_id=str(number), purpose="deliver_service")
        self.assertEqual(chain_pending(), 5)
        self.ids = dict(AuditEntry.objects.values_list("sequence", "id"))

    def tamper(self, sql: str, params: list | None = None) -> None:
        """What someone with the owner's rights could do behind the application's back."""
        with transaction.atomic(), triggers_lifted(connection), connection.cursor() as cursor:
            cursor.execute(sql, params)

    def assert_unsound(self, message: str, *args: str) -> None:
        with self.assertRaises(CommandError) as raised:
            audit("verify", *args)
        self.assertIn(message, str(raised.exception))

    def test_it_reports_a_sound_log_s3(self) -> None:
        audit("checkpoint")
        record(action="account.login")
        summary = audit("verify")
        self.assertIn("sound: 5 entries chained, ending at #5", summary)
        self.assertIn("1 signed checkpoints agree", summary)
        self.assertIn("1 recent entries wait", summary)

    def test_it_finds_an_edited_entry_s3(self) -> None:
        self.tamper("UPDATE audit_auditentry SET outcome = 'denied' WHERE sequence = 3")
        self.assert_unsound(f"entry #3 (id {self.ids[3]}) does not match its hash: it was edited")

    def test_it_finds_a_deleted_entry_s3(self) -> None:
        self.tamper("DELETE FROM audit_auditentry WHERE sequence = 3")
        self.assert_unsound("entry #3 is missing: the chain jumps from #2 to #4")

    def test_it_finds_a_deleted_entry_even_when_the_rest_was_renumbered_s3(self) -> None:
        self.tamper("DELETE FROM audit_auditentry WHERE sequence = 3")
        for sequence in (4, 5):
            self.tamper("UPDATE audit_auditentry SET sequence = %s WHERE sequence = %s", [sequence - 1, sequence])
        self.assert_unsound(f"entry #3 (id {self.ids[4]}) does not link to entry #2")

    def test_it_finds_an_inserted_entry_s3(self) -> None:
        for sequence in (5, 4, 3):
            self.tamper("UPDATE audit_auditentry SET sequence = %s WHERE sequence = %s", [sequence + 1, sequence])
        forged = record(action="vault.read", fields=["email"])
        second = AuditEntry.objects.get(sequence=2)
        assert second.hash is not None
        # A forger with the owner's rights can make a perfect hash for the entry slipped in at #3.
        self.tamper(
            "UPDATE audit_auditentry SET sequence = 3, prev_hash = %s, hash = %s WHERE id = %s",
            [second.hash, "0" * 64, forged.pk],
        )
        content = next(row for row in walk() if row[0] == 3)[4:]
        self.tamper(
            "UPDATE audit_auditentry SET hash = %s WHERE id = %s", [entry_hash(3, second.hash, content), forged.pk]
        )
        self.assert_unsound(f"entry #4 (id {self.ids[3]}) does not link to entry #3")

    def test_it_finds_reordered_entries_s3(self) -> None:
        self.tamper("UPDATE audit_auditentry SET sequence = 100 WHERE sequence = 2")
        self.tamper("UPDATE audit_auditentry SET sequence = 2 WHERE sequence = 3")
        self.tamper("UPDATE audit_auditentry SET sequence = 3 WHERE sequence = 100")
        self.assert_unsound(f"entry #2 (id {self.ids[3]}) does not link to entry #1")

    def test_it_finds_a_tail_cut_off_after_a_checkpoint_s3(self) -> None:
        audit("checkpoint")
        self.tamper("DELETE FROM audit_auditentry WHERE sequence >= 4")
        self.assert_unsound("the chain ends at entry #3, but a signed checkpoint vouches for #5")

    def test_it_finds_a_checkpoint_with_a_bad_signature_s3(self) -> None:
        audit("checkpoint")
        line = json.loads(self.checkpoints.read_text())
        line["hash"] = "0" * 64
        self.checkpoints.write_text(json.dumps(line) + "\n")
        self.assert_unsound(f"the checkpoint at #5 ({self.checkpoints}:1) has a bad signature")

    def test_it_finds_a_rewritten_history_the_checkpoint_file_remembers_s3(self) -> None:
        audit("checkpoint")
        operators_copy = self.checkpoints.with_name("kept.jsonl")
        operators_copy.write_text(self.checkpoints.read_text())
        # Someone holding the server (the database, the signing key and the server's checkpoint file)
        # edits entry #2, re-chains everything after it and re-signs: only the operator's copy disagrees.
        self.tamper("UPDATE audit_auditentry SET outcome = 'denied' WHERE sequence = 2")
        self.tamper("UPDATE audit_auditentry SET sequence = NULL, prev_hash = NULL, hash = NULL WHERE sequence >= 2")
        self.tamper("DELETE FROM audit_auditcheckpoint")
        self.checkpoints.write_text("")
        chain_pending()
        audit("checkpoint")
        self.assertIn("sound", audit("verify"))
        self.assert_unsound(
            f"the checkpoint at #5 ({operators_copy}:1) disagrees with the one in the database: the history was "
            "rewritten",
            "--checkpoints",
            str(operators_copy),
        )

    def test_it_finds_an_entry_left_unchained_too_long_s3(self) -> None:
        entry = record(action="vault.read")
        self.tamper(
            "UPDATE audit_auditentry SET time = %s WHERE id = %s", [timezone.now() - timedelta(minutes=10), entry.pk]
        )
        self.assert_unsound(
            f"entry id {entry.pk} has been waiting to be chained since", "--max-unchained-seconds", "60"
        )
        self.assertIn("sound", audit("verify", "--max-unchained-seconds", "3600"))

    def test_it_refuses_a_checkpoint_file_that_is_missing(self) -> None:
        self.assert_unsound("no checkpoint file at", "--checkpoints", str(self.checkpoints.with_name("none.jsonl")))


class SequencerTests(TransactionTestCase):
    databases = "__all__"

    def test_it_chains_an_entry_that_commits_after_a_later_one_s3(self) -> None:
        if connection.vendor != "postgresql":
            self.skipTest("SQLite has one writer: transactions cannot commit out of order")
        early = connections.create_connection("default")
        try:
            early.set_autocommit(False)
            with early.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO audit_auditentry (time, role, action, object_type, object_id, fields, purpose, "
                    "legal_basis, request_id, outcome) VALUES (now(), '', 'vault.read', '', '', '', '', '', '', "
                    "'allowed') RETURNING id"
                )
                (early_id,) = cursor.fetchone()
            late = record(action="account.login")
            self.assertGreater(late.pk, early_id)
            self.assertEqual(chain_pending(), 1)
            early.commit()
        finally:
            early.close()
        self.assertEqual(chain_pending(), 1)
        self.assertEqual(
            list(AuditEntry.objects.order_by("sequence").values_list("id", flat=True)), [late.pk, early_id]
        )
        self.assertIn("sound: 2 entries chained", audit("verify", "--max-unchained-seconds", "0"))
