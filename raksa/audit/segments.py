"""Removing a whole sealed segment of the log: every entry up to a signed checkpoint, by the table owner.

Entries never change and the application's role can never delete them. When a segment's retention
ends (the retention app's rule, raksa/retention/audit_segments.py), the database owner removes it in
one transaction: the whole log is verified first (chain, signed checkpoints, the operator's file),
then the segment's links and entries are deleted with the append-only triggers lifted for that
transaction only (raksa.audit.triggers). What remains starts after the checkpoint: `raksa audit
verify` then starts from that checkpoint's signed hash instead of the genesis hash (raksa.audit.verify),
so tampering with what remains is still found, and a head removed without a checkpoint is too.

On PostgreSQL lifting the triggers locks the two tables until the transaction ends: audit writes
wait while the segment is deleted (seconds per million entries), so run it in a quiet hour.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.db import connections, transaction
from django.db.models import Count

from raksa.audit.chain import DATABASE, ENTRIES, LINKS
from raksa.audit.models import AuditCheckpoint, AuditEntry, AuditLink
from raksa.audit.triggers import triggers_lifted
from raksa.audit.verify import verify

# An entry still unchained after this long is the sequencer's problem, not a reason to refuse a removal.
UNCHAINED_ALLOWED = timedelta(days=1)


class SegmentRefusedError(Exception):
    """The segment cannot be removed (the log is not sound, or nothing is chained after it)."""


@dataclass(frozen=True)
class RemovedSegment:
    through: int  # the checkpoint's sequence: the remaining chain starts after it
    entries: int
    by_agency: Counter[int | None]


def segment_counts(through: int) -> Counter[int | None]:
    """The entries of the segment up to `through`, counted by agency."""
    rows = (
        AuditEntry.objects.using(DATABASE)
        .filter(link__sequence__lte=through)
        .order_by()
        .values("agency_id")
        .annotate(entries=Count("id"))
    )
    return Counter({row["agency_id"]: row["entries"] for row in rows})


def remove_segment(*, checkpoint: AuditCheckpoint, checkpoint_file: Path | None) -> RemovedSegment:
    """Deletes every entry and link up to the checkpoint, after the whole log verified; one transaction
    (the caller's, if it has one: it may record the removal in the same one)."""
    result = verify(checkpoint_file=checkpoint_file, max_unchained=UNCHAINED_ALLOWED)
    if not result.sound:
        raise SegmentRefusedError(f"the audit log is not sound, nothing removed: {result.problem}")
    through = checkpoint.sequence
    if not AuditLink.objects.using(DATABASE).filter(sequence__gt=through).exists():
        # The chain must go on past the checkpoint: an empty chain would start again at the genesis hash.
        raise SegmentRefusedError(f"nothing is chained after the checkpoint at #{through} yet")
    connection = connections[DATABASE]
    with transaction.atomic(using=DATABASE):
        by_agency = segment_counts(through)
        with triggers_lifted(connection, (ENTRIES, LINKS)), connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {ENTRIES} WHERE id IN (SELECT entry_id FROM {LINKS} WHERE sequence <= %s)",  # noqa: S608  # nosec B608
                [through],
            )
            entries = cursor.rowcount
            cursor.execute(f"DELETE FROM {LINKS} WHERE sequence <= %s", [through])  # noqa: S608  # nosec B608
    return RemovedSegment(through=through, entries=entries, by_agency=by_agency)
