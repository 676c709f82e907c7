"""A separate server process appending to the audit log (and running the sequencer now and then).

Started with multiprocessing's spawn by test_concurrency and bench/audit.py; it imports Django
itself, so that importing this module needs nothing set up.
"""

import os
import time


def append(database_name: str, count: int, chain_every: int = 0) -> list[float]:
    """Record `count` entries, each in its own transaction; return each one's seconds to commit."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "raksa.settings")
    import django

    django.setup()
    from django.db import connections, transaction

    from raksa.audit.actions import record
    from raksa.audit.chain import chain_pending

    connections["default"].settings_dict["NAME"] = database_name
    latencies = []
    for number in range(count):
        started = time.perf_counter()
        with transaction.atomic():
            record(action="vault.read", object_type="registration", object_id=str(number), fields=["email"])
        latencies.append(time.perf_counter() - started)
        if chain_every and number % chain_every == 0:
            chain_pending(wait=False)
    connections.close_all()
    return latencies
