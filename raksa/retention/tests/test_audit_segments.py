"""Audit entries are due only as a whole segment sealed by a signed checkpoint, and are never deleted by a run."""

import datetime
import io
import tempfile
from pathlib import Path

from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import TestCase, override_settings

from raksa.audit.actions import record
from raksa.audit.chain import chain_pending
from raksa.audit.checkpoints import write_checkpoint
from raksa.audit.models import AuditCheckpoint, AuditEntry, AuditLink
from raksa.audit.segments import SegmentRefusedError
from raksa.audit.triggers import triggers_lifted
from raksa.retention import engine
from raksa.retention.actions import run_retention
from raksa.retention.rules import rule

DAY = datetime.timedelta(days=1)


class AuditSegmentTests(TestCase):
    databases = "__all__"

    def test_a_sealed_segment_is_due_the_day_after_its_period_and_the_run_leaves_it_to_the_owner_s3(self) -> None:
        for _ in range(3):
            record(action="test.event", purpose="retention")
        chain_pending()
        with tempfile.TemporaryDirectory() as directory:
            checkpoint = write_checkpoint(file=Path(directory) / "checkpoints.jsonl")
        assert checkpoint is not None
        record(action="test.after_the_checkpoint", purpose="retention")
        sealed = AuditCheckpoint.objects.get()
        period = rule("audit.auditentry").checked_period().length

        (before,) = engine.plan(now=sealed.time + period - DAY, only=["audit.auditentry"])
        self.assertEqual(before.total, 0)
        (after,) = engine.plan(now=sealed.time + period + DAY, only=["audit.auditentry"])
        self.assertEqual(after.total, AuditEntry.objects.filter(link__sequence__lte=sealed.sequence).count())
        self.assertGreaterEqual(after.total, 3)

        entries = AuditEntry.objects.count()
        self.assertEqual(run_retention(now=sealed.time + period + DAY, only=["audit.auditentry"]), [])
        self.assertEqual(AuditEntry.objects.count(), entries)


class OwnerRemovalTests(TestCase):
    """`raksa retention run --owner` removes a due segment whole; verify then starts from its checkpoint (S3)."""

    databases = "__all__"

    def setUp(self) -> None:
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        self.file = Path(directory.name) / "checkpoints.jsonl"
        settings_override = override_settings(RAKSA_AUDIT_CHECKPOINT_FILE=self.file)
        settings_override.enable()
        self.addCleanup(settings_override.disable)
        for number in range(3):
            record(action="test.event", object_id=str(number), purpose="retention")
        chain_pending()
        checkpoint = write_checkpoint()
        assert checkpoint is not None
        self.sealed = AuditCheckpoint.objects.get()
        for number in range(2):
            record(action="test.after_the_checkpoint", object_id=str(number), purpose="retention")
        chain_pending()
        self.due = self.sealed.time + rule("audit.auditentry").checked_period().length + DAY

    def remove(self) -> int:
        (outcome,) = run_retention(now=self.due, only=["audit.auditentry"], owner=True)
        return outcome.total

    def test_it_removes_the_whole_segment_and_verify_starts_from_its_checkpoint_s3(self) -> None:
        in_segment = AuditEntry.objects.filter(link__sequence__lte=self.sealed.sequence).count()
        self.assertGreaterEqual(in_segment, 3)
        self.assertEqual(run_retention(now=self.due, only=["audit.auditentry"]), [])  # not without --owner
        self.assertEqual(self.remove(), in_segment)
        self.assertFalse(AuditEntry.objects.filter(link__sequence__lte=self.sealed.sequence).exists())
        self.assertEqual(AuditLink.objects.order_by("sequence").first().sequence, self.sealed.sequence + 1)  # type: ignore[union-attr]
        ended = AuditEntry.objects.get(action="retention.records_ended", object_type="audit.auditentry")
        self.assertEqual((ended.object_id, ended.subject_id), (str(in_segment), None))
        chain_pending()
        out = io.StringIO()
        call_command("audit", "verify", stdout=out)
        self.assertIn(f"starting after the signed checkpoint at #{self.sealed.sequence}", out.getvalue())

    def test_the_owner_command_leaves_a_segment_not_yet_due(self) -> None:
        entries = AuditEntry.objects.count()
        out = io.StringIO()
        call_command("retention", "run", "--rule", "audit.auditentry", "--owner", stdout=out)
        self.assertIn("Retention run ended 0 record(s)", out.getvalue())
        self.assertEqual(AuditEntry.objects.count(), entries)

    def test_verify_still_finds_tampering_in_what_remains_s3(self) -> None:
        self.remove()
        tamper("UPDATE audit_auditentry SET object_id = '9' WHERE action = 'test.after_the_checkpoint'")
        with self.assertRaisesMessage(CommandError, "does not match its hash"):
            call_command("audit", "verify", stdout=io.StringIO())

    def test_verify_finds_a_head_deleted_without_a_checkpoint_s3(self) -> None:
        tamper("DELETE FROM audit_auditentry WHERE id IN (SELECT entry_id FROM audit_auditlink WHERE sequence <= 1)")
        tamper("DELETE FROM audit_auditlink WHERE sequence <= 1")
        with self.assertRaisesMessage(CommandError, "no signed checkpoint at #1 vouches"):
            call_command("audit", "verify", stdout=io.StringIO())

    def test_it_removes_nothing_from_a_log_that_is_not_sound_s3(self) -> None:
        tamper("UPDATE audit_auditentry SET object_id = '9' WHERE action = 'test.event' AND object_id = '0'")
        entries = AuditEntry.objects.count()
        with self.assertRaisesMessage(SegmentRefusedError, "the audit log is not sound, nothing removed"):
            self.remove()
        self.assertEqual(AuditEntry.objects.count(), entries)


def tamper(sql: str) -> None:
    """What someone with the owner's rights could do behind the application's back."""
    with transaction.atomic(), triggers_lifted(connection), connection.cursor() as cursor:
        cursor.execute(sql)
