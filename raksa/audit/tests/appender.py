"""A separate server process appending to the audit log (and running the sequencer now and then).

Started with multiprocessing's spawn by test_concurrency and bench/audit.py; it imports Django
itself, so that importing this module needs nothing set up.
"""

import os
import time
from collections.abc import Callable

# How an entry is written: through record(), or (bench baselines) the same row by a bare INSERT into
# the audit table itself (its statement trigger fires) or into BASELINE_TABLE (no trigger).
RECORD, BARE_INSERT, BARE_PLAIN = "record", "bare_insert", "bare_plain"
BASELINE_TABLE = "bench_plain"


def append(
    database_url: str, count: int, chain_every: int = 0, how: tuple[str, ...] = (RECORD,)
) -> list[tuple[str, float, float]]:
    """Record `count` entries in the database at `database_url`, each in its own transaction, the
    n-th written the way how[n % len(how)] says; return how each was written and its seconds to
    insert and to commit.

    The insert is timed inside a transaction that has already begun (a SELECT stands for the caller's
    own change, so BEGIN is not counted); the commit (the WAL flush to disk) is timed apart."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "raksa.settings")
    import django

    django.setup()
    from django.db import connection, connections, transaction

    from raksa.audit.actions import record
    from raksa.audit.chain import chain_pending

    inserts: dict[str, Callable[..., object]] = {
        RECORD: record,
        BARE_INSERT: _bare("audit_auditentry"),
        BARE_PLAIN: _bare(BASELINE_TABLE),
    }
    latencies = []
    for number in range(count):
        way = how[number % len(how)]
        insert = inserts[way]
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            started = time.perf_counter()
            insert(action="vault.read", object_type="registration", object_id=str(number), fields=["email"])
            inserted = time.perf_counter()
        latencies.append((way, inserted - started, time.perf_counter() - inserted))
        if chain_every and number % chain_every == 0:
            chain_pending(wait=False)
    connections.close_all()
    return latencies


def _bare(table: str) -> Callable[..., None]:
    """A bare INSERT of the row record() writes, with the same values, through the same cursor."""
    from django.db import connection
    from django.utils import timezone

    from raksa.audit.models import CONTENT_COLUMNS

    sql = f"INSERT INTO {table} ({', '.join(CONTENT_COLUMNS)}) VALUES ({', '.join(['%s'] * len(CONTENT_COLUMNS))})"

    def insert(*, action: str, object_type: str, object_id: str, fields: list[str]) -> None:
        row = [timezone.now(), None, "", None, None, action, object_type, object_id, ",".join(fields), "", "", ""]
        with connection.cursor() as cursor:
            cursor.execute(f"{sql} RETURNING id", [*row, "allowed"])
            cursor.fetchone()

    return insert
