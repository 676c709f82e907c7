"""The officer's work queue: a page of registrations whose values are read through the staff gateway.

Goal (issue 5): with 1,000 registrations in the queue the page answers in under 300 ms (median), and
the number of queries does not grow with the number of rows.

Measured on the bench data set (bench/dataset.py, PostgreSQL): the officer of its Minburi service,
whose queue holds that service's share of the 100,000 registrations (about 2,000; `--small`: about
20), among 1,000,000 people. The gateway's reads write their audit entries into the data set, as
they would on a real site; the audit benchmark chains them before it verifies. The baseline,
measured in the same run, is the public list of services (no personal data, no gateway).
Figures:
- the queue page (its first page of 50), median;
- the queue's rows read through the gateway, 1,000 at once (or all of a smaller queue), median;
- the queries of the queue page and of the gateway read at that many rows minus those at 100 (goal
  0): the queue is cut to 100 inside a transaction that is rolled back.
"""

import tempfile
import time

from bench import dataset
from bench.harness import Figure, run_child

GOAL_MS = 300.0
ROWS = 1_000
FEW = 100
OFFICER = "officer.minburi"


def run(*, small: bool) -> list[Figure]:
    data = dataset.ensure("small" if small else "full")
    with tempfile.TemporaryDirectory(prefix="raksa-bench-services-") as scratch:
        found = run_child("bench.services:measure", [str(5 if small else 15)], data.environment(scratch))
    return _figures(found, citizens=data.counts["citizens"])


def _figures(found: dict, *, citizens: int) -> list[Figure]:
    rows, few = found["rows"], found["few"]
    where = f"PostgreSQL, bench data set ({citizens:,} people, a queue of {found['queue']:,})"
    baseline = f"baseline: the public services list {found['baseline_ms']:.1f} ms"
    return [
        Figure(
            f"services queue page, {found['queue']:,} registrations",
            found["page_ms"],
            GOAL_MS,
            "ms",
            detail=f"first page of {found['page_rows']} rows, each read through the gateway; {baseline}; {where}",
        ),
        Figure(
            f"services queue rows via the gateway, {rows:,} at once",
            found["all_rows_ms"],
            GOAL_MS,
            "ms",
            detail=f"name and phone of {rows:,} registrations opened in one gateway read; {where}",
        ),
        Figure(
            f"services queue page queries, {rows:,} vs {few} registrations",
            found["page_queries"][1] - found["page_queries"][0],
            0,
            "queries",
            detail=f"{found['page_queries'][0]} queries at {few}, {found['page_queries'][1]} at {rows:,}",
        ),
        Figure(
            f"services gateway read queries, {rows:,} vs {few} rows",
            found["read_queries"][1] - found["read_queries"][0],
            0,
            "queries",
            detail=f"{found['read_queries'][0]} queries at {few}, {found['read_queries'][1]} at {rows:,}",
        ),
    ]


# The child process, in the data set's databases ------------------------------------------------------
def measure(repeat: str) -> dict:
    from django.db import connection, reset_queries, transaction
    from django.test import Client, RequestFactory
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from bench.harness import measure as timing
    from raksa.organisations.models import StaffMembership
    from raksa.services import access, views
    from raksa.services.models import Registration, Service
    from raksa.vault.keys import session

    setup_test_environment()
    officer = StaffMembership.objects.select_related("user").get(user__username=OFFICER)
    queue = list(access.queue(officer).order_by("created_at").values_list("pk", flat=True))
    rows = min(ROWS, len(queue))
    few = min(FEW, max(1, rows // 10))
    client = Client()
    _log_in(client, officer)
    page = lambda: client.get("/th/services/queue/")  # noqa: E731
    assert page().status_code == 200
    baseline = timing(lambda: client.get("/th/services/"), repeat=int(repeat))
    page_timing = timing(page, repeat=int(repeat))
    request = _request(RequestFactory(), client, officer)

    def read(count: int) -> None:
        # As in a request: the vault session the middleware opens keeps the keys for the read.
        with session():
            records = list(access.queue(officer).order_by("created_at")[:count])
            views._queue_rows(request, records)

    # A few samples only: each one writes an audit entry per row.
    all_rows = timing(lambda: read(rows), repeat=3, warmup=0)
    elsewhere = Service.objects.filter(kind="service").exclude(officers=officer).order_by("pk").first()
    page_queries, read_queries = [], []
    for count in (few, rows):
        with transaction.atomic():
            # The queue holds `count` registrations: the others move to a service the officer does not see.
            Registration.objects.filter(pk__in=queue[count:]).update(service=elsewhere)
            reset_queries()
            with CaptureQueriesContext(connection) as captured:
                assert page().status_code == 200
            page_queries.append(len(captured))
            with CaptureQueriesContext(connection) as captured:
                read(count)
            read_queries.append(len(captured))
            transaction.set_rollback(True)
    return {
        "queue": len(queue),
        "rows": rows,
        "few": few,
        "page_rows": views.QUEUE_PAGE_SIZE,
        "baseline_ms": baseline.median * 1000,
        "page_ms": page_timing.median * 1000,
        "all_rows_ms": all_rows.median * 1000,
        "page_queries": page_queries,
        "read_queries": read_queries,
    }


def _log_in(client, officer) -> None:
    from django.apps import apps

    from raksa.accounts import mfa

    client.force_login(officer.user)
    if apps.is_installed("django_otp.plugins.otp_totp"):
        from django_otp.plugins.otp_totp.models import TOTPDevice

        TOTPDevice.objects.get_or_create(user=officer.user, name="bench", defaults={"confirmed": True})
    session = client.session
    session[mfa.MFA_VERIFIED] = time.time()
    session.save()


def _request(factory, client, officer):
    from importlib import import_module

    from django.conf import settings

    request = factory.get("/th/services/queue/")
    request.user = officer.user
    engine = import_module(settings.SESSION_ENGINE)
    request.session = engine.SessionStore(client.session.session_key)
    return request
