"""Audit entries are due only as a whole segment sealed by a signed checkpoint, and are never deleted by a run."""

import datetime
import tempfile
from pathlib import Path

from django.test import TestCase

from raksa.audit.actions import record
from raksa.audit.chain import chain_pending
from raksa.audit.checkpoints import write_checkpoint
from raksa.audit.models import AuditCheckpoint, AuditEntry
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
