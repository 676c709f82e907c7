import io
import json
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction
from django.test import TestCase, TransactionTestCase, override_settings
from django.utils import timezone

from raksa.audit.actions import record
from raksa.audit.chain import Sequencer, canonical_hash, chain_pending, entry_hash, walk
from raksa.audit.models import AuditEntry, AuditLink, SequencerState
from raksa.audit.triggers import triggers_lifted
from raksa.testing.backends import terminate_backend


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
        self.ids = dict(AuditLink.objects.values_list("sequence", "entry_id"))

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

    def delete(self, sequence: int) -> None:
        """Delete an entry and its link."""
        self.tamper("DELETE FROM audit_auditentry WHERE id = %s", [self.ids[sequence]])
        self.tamper("DELETE FROM audit_auditlink WHERE sequence = %s", [sequence])

    def test_it_finds_an_edited_entry_s3(self) -> None:
        self.tamper("UPDATE audit_auditentry SET outcome = 'denied' WHERE id = %s", [self.ids[3]])
        self.assert_unsound(f"entry #3 (id {self.ids[3]}) does not match its hash: it was edited")

    def test_it_finds_a_deleted_entry_s3(self) -> None:
        self.delete(3)
        self.assert_unsound("entry #3 is missing: the chain jumps from #2 to #4")

    def test_it_finds_a_deleted_entry_whose_link_was_left_s3(self) -> None:
        self.tamper("DELETE FROM audit_auditentry WHERE id = %s", [self.ids[3]])
        self.assert_unsound(f"entry #3 (id {self.ids[3]}) is missing: the entry was deleted")

    def test_it_finds_a_deleted_entry_even_when_the_rest_was_renumbered_s3(self) -> None:
        self.delete(3)
        for sequence in (4, 5):
            self.tamper("UPDATE audit_auditlink SET sequence = %s WHERE sequence = %s", [sequence - 1, sequence])
        self.assert_unsound(f"entry #3 (id {self.ids[4]}) does not link to entry #2")

    def test_it_finds_an_inserted_entry_s3(self) -> None:
        for sequence in (5, 4, 3):
            self.tamper("UPDATE audit_auditlink SET sequence = %s WHERE sequence = %s", [sequence + 1, sequence])
        forged = record(action="vault.read", fields=["email"])
        second = AuditLink.objects.get(sequence=2)
        # A forger with the owner's rights can make a perfect hash for the entry slipped in at #3.
        self.tamper(
            "INSERT INTO audit_auditlink (sequence, entry_id, prev_hash, hash) VALUES (3, %s, %s, %s)",
            [forged.pk, second.hash, "0" * 64],
        )
        content = next(row for row in walk() if row[0] == 3)[5]
        self.tamper(
            "UPDATE audit_auditlink SET hash = %s WHERE sequence = 3", [canonical_hash(3, second.hash, content)]
        )
        self.assert_unsound(f"entry #4 (id {self.ids[3]}) does not link to entry #3")

    def test_it_finds_reordered_entries_s3(self) -> None:
        self.tamper("UPDATE audit_auditlink SET sequence = 100 WHERE sequence = 2")
        self.tamper("UPDATE audit_auditlink SET sequence = 2 WHERE sequence = 3")
        self.tamper("UPDATE audit_auditlink SET sequence = 3 WHERE sequence = 100")
        self.assert_unsound(f"entry #2 (id {self.ids[3]}) does not link to entry #1")

    def test_it_finds_an_entry_moved_to_another_link_s3(self) -> None:
        self.tamper("UPDATE audit_auditlink SET entry_id = -1 WHERE sequence = 2")
        self.tamper("UPDATE audit_auditlink SET entry_id = %s WHERE sequence = 3", [self.ids[2]])
        self.tamper("UPDATE audit_auditlink SET entry_id = %s WHERE sequence = 2", [self.ids[3]])
        self.assert_unsound(f"entry #2 (id {self.ids[3]}) does not match its hash")

    def test_it_finds_a_tail_cut_off_after_a_checkpoint_s3(self) -> None:
        audit("checkpoint")
        for sequence in (4, 5):
            self.delete(sequence)
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
        self.tamper("UPDATE audit_auditentry SET outcome = 'denied' WHERE id = %s", [self.ids[2]])
        self.tamper("DELETE FROM audit_auditlink WHERE sequence >= 2")
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

    def test_it_hashes_the_canonical_form_the_same_on_every_database_s3(self) -> None:
        """The database writes each entry's canonical JSON; it must be byte for byte what `entry_hash`
        (Python's json) defines, even for text no record() would accept."""
        subject = uuid.uuid4()
        awkward = AuditEntry.objects.create(
            time=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
            subject_id=subject,
            agency_id=7,
            action='vault.read"\\\b\f\n\r\t\x01\x1f\x7f',
            object_id="ไทย é \u2028 😀",
            fields="email,phone",
            request_id="",
        )
        chain_pending()
        link = AuditLink.objects.get(entry=awkward)
        content = [
            "2026-01-02T03:04:05.000000",
            None,
            "",
            7,
            subject.hex,
            awkward.action,
            "",
            awkward.object_id,
            "email,phone",
            "",
            "",
            "",
            "allowed",
        ]
        self.assertEqual(link.hash, entry_hash(link.sequence, link.prev_hash, content))
        self.assertIn("sound: 6 entries", audit("verify"))

    def test_it_refuses_a_checkpoint_file_that_is_missing(self) -> None:
        self.assert_unsound("no checkpoint file at", "--checkpoints", str(self.checkpoints.with_name("none.jsonl")))


INSERT_ENTRY = (
    "INSERT INTO audit_auditentry (time, role, action, object_type, object_id, fields, purpose, legal_basis, "
    "request_id, outcome) VALUES (now(), '', 'vault.read', '', '', '', '', '', '', 'allowed') RETURNING id"
)


class SequencerTests(TransactionTestCase):
    """Transactions commit in any order on PostgreSQL: the sequencer chains each entry once it has
    committed, skips none, and forgets the ids of transactions that rolled back."""

    databases = "__all__"

    def setUp(self) -> None:
        if connection.vendor != "postgresql":
            self.skipTest("SQLite has one writer: transactions cannot commit out of order")
        self.other = connections.create_connection("default")
        self.addCleanup(self.other.close)
        self.other.set_autocommit(False)

    def insert_elsewhere(self) -> int:
        """An entry inserted by another server process whose transaction stays open."""
        with self.other.cursor() as cursor:
            cursor.execute(INSERT_ENTRY)
            (entry_id,) = cursor.fetchone()
        return entry_id

    def chained(self) -> list[int]:
        return list(AuditLink.objects.order_by("sequence").values_list("entry_id", flat=True))

    def test_it_chains_an_entry_that_commits_after_a_later_one_s3(self) -> None:
        for sequencer in (Sequencer(), None):  # one kept running (--follow), and one per call
            with self.subTest(follow=sequencer is not None):
                run = sequencer.chain_pending if sequencer else chain_pending
                early_id = self.insert_elsewhere()
                late = record(action="account.login")
                self.assertGreater(late.pk, early_id)
                self.assertEqual(run(), 1)
                self.other.commit()
                self.assertEqual(run(), 1)
                self.assertEqual(self.chained()[-2:], [late.pk, early_id])
        self.assertIn("sound: 4 entries chained", audit("verify", "--max-unchained-seconds", "0"))

    def test_it_lets_go_of_the_ids_of_transactions_that_rolled_back(self) -> None:
        sequencer = Sequencer()
        rolled_back = self.insert_elsewhere()
        late = record(action="account.login")
        self.assertEqual(sequencer.chain_pending(), 1)
        self.other.rollback()
        after = record(action="account.logout")
        self.assertEqual(sequencer.chain_pending(), 1)
        # Settled once every transaction that was open has ended (other databases' on this server too:
        # another test process's TestCase holds its transaction for a whole class, so allow minutes).
        deadline = time.monotonic() + 240
        while SequencerState.objects.filter(settled_through__gte=after.pk).count() == 0:
            self.assertLess(time.monotonic(), deadline, "the sequencer never settled the rolled-back id")
            record(action="account.login")
            sequencer.chain_pending()
            time.sleep(0.2)
        self.assertNotIn(rolled_back, self.chained())
        self.assertEqual(self.chained()[:2], [late.pk, after.pk])
        self.assertEqual(chain_pending(), 0)  # a new sequencer starts from what was settled
        self.assertIn("sound", audit("verify", "--max-unchained-seconds", "0"))


class DatabaseGoneTests(TransactionTestCase):
    """PostgreSQL going away while the sequencer writes its links (a restart): `audit chain --follow`
    survives Django's DatabaseError only, so the driver's own error from the COPY must arrive as one."""

    databases = "__all__"

    def setUp(self) -> None:
        if connection.vendor != "postgresql":
            self.skipTest("ends the sequencer's PostgreSQL backend from another session (pg_terminate_backend)")

    def test_it_raises_djangos_error_when_the_database_goes_mid_copy_and_chains_later_s3(self) -> None:
        for number in range(3):
            record(action="vault.read", fields=["email"], object_id=str(number), purpose="deliver_service")
        write_links = Sequencer._write_links

        def write_after_a_restart(sequencer: Sequencer, *args: object) -> None:
            terminate_backend(connection)
            write_links(sequencer, *args)  # type: ignore[arg-type]

        with mock.patch.object(Sequencer, "_write_links", write_after_a_restart), self.assertRaises(DatabaseError):
            Sequencer().chain_pending()
        self.assertEqual(AuditLink.objects.count(), 0)
        self.assertEqual(chain_pending(), 3)
        self.assertIn("sound: 3 entries chained", audit("verify", "--max-unchained-seconds", "0"))
