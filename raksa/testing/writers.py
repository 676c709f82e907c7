"""A writer that holds a person and never commits (a request stuck, a connection idle in transaction),
for tests of what key destruction does meanwhile (no mock)."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from unittest.mock import patch

from django.db import connections

from raksa.vault import keys


@contextmanager
def holding(subject_id: uuid.UUID, *, using: str = "default", wait_seconds: float = 0.2) -> Iterator[None]:
    """Another connection to the main database holds the person as a transaction sealing for them does
    (PostgreSQL's shared advisory lock, `keys.key_for_sealing`) until the block ends; destructions give
    up on them after `wait_seconds` instead of `keys.WAIT_SECONDS`. PostgreSQL only: on SQLite a writer
    holds the whole database, not one person."""
    writer = connections.create_connection(using)
    assert writer.vendor == "postgresql", "a writer holds one person only on PostgreSQL"
    try:
        with writer.cursor() as cursor:
            cursor.execute("BEGIN")
            # Never waits: a test that met a lock held elsewhere fails here instead of hanging.
            cursor.execute(
                "SELECT pg_try_advisory_xact_lock_shared(%s, %s)", [keys.SUBJECT_LOCK, keys.lock_id(subject_id.hex)]
            )
            assert cursor.fetchone()[0], "another session holds this person exclusively"
        with patch.object(keys, "WAIT_SECONDS", wait_seconds):
            yield
    finally:
        writer.close()  # its transaction, and the lock, end with the session
