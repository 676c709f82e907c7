"""`raksa audit verify`: the chain, the signed checkpoints and the operator's copy of them, together."""

from datetime import timedelta
from pathlib import Path

from raksa.audit.chain import Verification, chain_start, verify_chain
from raksa.audit.checkpoints import Checkpoint, file_checkpoints, public_key_text, stored_checkpoints


def verify(
    *, checkpoint_file: Path | None, max_unchained: timedelta, trusted_keys: set[str] | None = None
) -> Verification:
    """Report the first problem found, or a sound log. Checkpoints must be signed by a trusted key
    (by default, the public half of RAKSA_AUDIT_SIGNING_KEY)."""
    trusted = trusted_keys or {public_key_text()}
    checkpoints = stored_checkpoints()
    if checkpoint_file is not None:
        checkpoints += file_checkpoints(checkpoint_file)
    expected: dict[int, Checkpoint] = {}
    for checkpoint in checkpoints:
        where = f"the checkpoint at #{checkpoint.sequence} ({checkpoint.source})"
        if not checkpoint.signed_by(trusted):
            return Verification(problem=f"{where} has a bad signature, or one by a key that is not trusted")
        earlier = expected.setdefault(checkpoint.sequence, checkpoint)
        if earlier.hash != checkpoint.hash:
            return Verification(
                problem=f"{where} disagrees with the one in {earlier.source}: the history was rewritten"
            )
    start = chain_start()
    if start is not None:
        # A removed segment (raksa.audit.segments): the rest must start where a signed checkpoint says.
        anchor = expected.get(start.sequence)
        if anchor is None or anchor.hash != start.hash:
            return Verification(
                problem=f"entries #1 to #{start.sequence} are missing and no signed checkpoint at "
                f"#{start.sequence} vouches for where the chain now starts: they were deleted"
            )
    result = verify_chain(
        expected={sequence: checkpoint.hash for sequence, checkpoint in expected.items()},
        max_unchained=max_unchained,
        start=start,
    )
    result.checkpoints = len(expected)
    return result
