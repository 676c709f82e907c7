"""The officer's work queue: a page of registrations whose values are read through the staff gateway.

Goal (issue 5): with 1,000 registrations in the queue the page answers in under 300 ms (median) on
SQLite and on PostgreSQL, and the number of queries does not grow with the number of rows.

Every measurement runs in a child process against scratch databases made for it (gateway reads
write audit entries, which can never be deleted: they must not land in a real database). The
baseline, measured in the same run, is the public list of services (no personal data, no gateway).
Figures:
- the queue page (its first page of 50) with 1,000 registrations, median;
- the queue's rows read through the gateway for all 1,000 registrations at once, median;
- the queries of the queue page and of the gateway read at 1,000 rows minus those at 100 (goal 0).
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg

from bench.harness import Figure

PG_SERVER = os.environ.get("RAKSA_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
ROOT = Path(__file__).resolve().parent.parent
GOAL_MS = 300.0


def run(*, small: bool) -> list[Figure]:
    rows = 1_000
    repeat = 5 if small else 15
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="raksa-bench-services-") as directory:
        scratch = Path(directory)
        figures += _figures("SQLite", _child(f"sqlite:///{scratch / 'main.sqlite3'}", scratch, rows, repeat))
        name = f"raksa_bench_services_{os.getpid()}"
        try:
            with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=3) as server:
                server.execute(f"CREATE DATABASE {name}")
        except psycopg.Error as error:
            print(f"bench services: PostgreSQL at {PG_SERVER} unavailable, its figures NOT measured: {error}")
            return figures
        try:
            figures += _figures("PostgreSQL", _child(f"{PG_SERVER}/{name}", scratch, rows, repeat))
        finally:
            with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as server:
                server.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    return figures


def _child(url: str, scratch: Path, rows: int, repeat: int) -> dict:
    environment = {
        **os.environ,
        "DATABASE_URL": url,
        "RAKSA_KEYSTORE_URL": f"sqlite:///{scratch / f'keystore-{abs(hash(url))}.sqlite3'}",
        "RAKSA_AUDIT_CHECKPOINT_FILE": str(scratch / "checkpoints.jsonl"),
        "DJANGO_SETTINGS_MODULE": os.environ.get("RAKSA_BENCH_SETTINGS", "raksa.settings"),
        "RAKSA_LOG_LEVEL": "WARNING",
    }
    arguments = [sys.executable, "-m", "bench.services", str(rows), str(repeat)]
    done = subprocess.run(arguments, env=environment, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"bench services child failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _figures(database: str, found: dict) -> list[Figure]:
    rows = found["rows"]
    baseline = f"baseline: the public services list {found['baseline_ms']:.1f} ms"
    return [
        Figure(
            f"services queue page, {rows:,} registrations, {database}",
            found["page_ms"],
            GOAL_MS,
            "ms",
            detail=f"first page of {found['page_rows']} rows, each read through the gateway; {baseline}",
        ),
        Figure(
            f"services queue rows via the gateway, all {rows:,}, {database}",
            found["all_rows_ms"],
            GOAL_MS,
            "ms",
            detail=f"name and phone of {rows:,} registrations opened in one gateway read",
        ),
        Figure(
            f"services queue page queries, {rows:,} vs {found['few']} registrations, {database}",
            found["page_queries"][1] - found["page_queries"][0],
            0,
            "queries",
            detail=f"{found['page_queries'][0]} queries at {found['few']}, {found['page_queries'][1]} at {rows:,}",
        ),
        Figure(
            f"services gateway read queries, {rows:,} vs {found['few']} rows, {database}",
            found["read_queries"][1] - found["read_queries"][0],
            0,
            "queries",
            detail=f"{found['read_queries'][0]} queries at {found['few']}, {found['read_queries'][1]} at {rows:,}",
        ),
    ]


# The child process ---------------------------------------------------------------------------------
def _main(rows: int, repeat: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test import Client, RequestFactory
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from bench.harness import measure

    setup_test_environment()
    call_command("migrate", verbosity=0)
    call_command("migrate", database="keystore", verbosity=0)
    few = 100
    officer, service, registrations = _queue(rows)
    client = Client()
    _log_in(client, officer)
    page = lambda: client.get("/th/services/queue/")  # noqa: E731
    assert page().status_code == 200
    baseline = measure(lambda: client.get("/th/services/"), repeat=repeat)
    page_timing = measure(page, repeat=repeat)
    request = _request(RequestFactory(), client, officer)
    from raksa.services import access, views
    from raksa.vault.keys import session

    def read(count: int) -> None:
        # As in a request: the vault session the middleware opens keeps the keys for the read.
        with session():
            records = list(access.queue(officer).order_by("created_at")[:count])
            views._queue_rows(request, records)

    # A few samples only: each one writes an audit entry per row.
    all_rows = measure(lambda: read(rows), repeat=3, warmup=0)
    page_queries = []
    read_queries = []
    for count in (few, rows):
        # The queue holds `count` registrations: hide the others by status for the page's own count.
        _limit_queue(service, registrations, count)
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            assert page().status_code == 200
        page_queries.append(len(captured))
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            read(count)
        read_queries.append(len(captured))
        reset_queries()
    result = {
        "rows": rows,
        "few": few,
        "page_rows": views.QUEUE_PAGE_SIZE,
        "baseline_ms": baseline.median * 1000,
        "page_ms": page_timing.median * 1000,
        "all_rows_ms": all_rows.median * 1000,
        "page_queries": page_queries,
        "read_queries": read_queries,
    }
    print(json.dumps(result))


def _queue(rows: int):
    import uuid

    from raksa.accounts.models import User
    from raksa.organisations.models import Agency, Controller, StaffMembership, StaffRole
    from raksa.services import actions
    from raksa.services.models import Kind
    from raksa.services.tests import builders
    from raksa.subjects.models import Subject

    controller = Controller.objects.create(slug="bma", name_th="กรุงเทพมหานคร", name_en="BMA")
    agency = Agency.objects.create(controller=controller, slug="minburi", name_th="สำนักงานเขตมีนบุรี", name_en="Minburi")
    user = User.objects.create_user(
        "officer.minburi", "bench-password", subject=Subject.objects.create(), is_staff=True
    )
    officer = StaffMembership.objects.create(user=user, agency=agency, role=StaffRole.OFFICER)
    service = actions.create_service(
        agency=agency, slug="certificate", kind=Kind.SERVICE, title_th="หนังสือรับรอง", title_en="Certificate", actor=None
    )
    for category in ("name", "phone", "national_id"):
        actions.declare_field(
            service=service, category=category, purpose="service_delivery", legal_basis="pdpa_24_4", actor=None
        )
    actions.assign_officer(service=service, staff=officer, actor=None)
    builders.publish_policy(agency)
    notice = actions.current_notice(service)
    registrations = []
    for index in range(rows):
        registration, _created = actions.register(
            service=service,
            subject=Subject.objects.create(),
            values={"name": f"ผู้ขอ {index}", "phone": "081 234 5678", "national_id": "3100600445635"},
            notice_number=notice.number,
            submission_key=uuid.uuid4(),
            actor=None,
        )
        registrations.append(registration)
    return officer, service, registrations


def _limit_queue(service, registrations, count: int) -> None:
    """Keeps `count` registrations in the officer's queue by moving the rest to another agency's service."""
    from raksa.organisations.models import Agency
    from raksa.services import actions
    from raksa.services.models import Kind, Registration, Service

    elsewhere = Service.objects.filter(slug="elsewhere").first()
    if elsewhere is None:
        other = Agency.objects.create(controller=service.agency.controller, slug="other", name_th="อื่น", name_en="Other")
        elsewhere = actions.create_service(
            agency=other, slug="elsewhere", kind=Kind.SERVICE, title_th="อื่น", title_en="Other", actor=None
        )
    kept = [registration.pk for registration in registrations[:count]]
    Registration.objects.filter(pk__in=kept).update(service=service)
    Registration.objects.exclude(pk__in=kept).update(service=elsewhere)


def _log_in(client, officer) -> None:
    import time

    from django.apps import apps

    from raksa.accounts import mfa

    client.force_login(officer.user)
    if apps.is_installed("django_otp.plugins.otp_totp"):
        from django_otp.plugins.otp_totp.models import TOTPDevice

        TOTPDevice.objects.create(user=officer.user, name="bench", confirmed=True)
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


if __name__ == "__main__":
    _main(int(sys.argv[1]), int(sys.argv[2]))
