"""A separate server process appending to the audit log (and running the sequencer now and then).

Started with multiprocessing's spawn by test_concurrency and bench/audit.py; it imports Django
itself, so that importing this module needs nothing set up.
"""

import os
import time
from functools import partial


def append(database_url: str, count: int, chain_every: int = 0, plain_table: str = "") -> list[tuple[float, float]]:
    """Record `count` entries in the database at `database_url`, each in its own transaction; return
    each one's seconds to insert and to insert and commit. With `plain_table`, insert the same values
    there instead (a baseline)."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "raksa.settings")
    import django

    django.setup()
    from django.db import connections, transaction

    from raksa.audit.actions import record
    from raksa.audit.chain import chain_pending

    latencies = []
    for number in range(count):
        started = time.perf_counter()
        with transaction.atomic():
            entry = record if not plain_table else partial(_insert_plain, plain_table)
            entry(action="vault.read", object_type="registration", object_id=str(number), fields=["email"])
            inserted = time.perf_counter()
        latencies.append((inserted - started, time.perf_counter() - started))
        if chain_every and number % chain_every == 0:
            chain_pending(wait=False)
    connections.close_all()
    return latencies


def _insert_plain(table: str, *, action: str, object_type: str, object_id: str, fields: list[str]) -> None:
    from django.db import connection
    from django.utils import timezone

    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (time, action, object_type, object_id, fields) VALUES (%s, %s, %s, %s, %s)",
            [timezone.now(), action, object_type, object_id, ",".join(fields)],
        )
