"""The benchmarks' shared synthetic data set on PostgreSQL: built once by bulk loading, then reused.

At full scale: 1,000,000 citizens (a subject, an account, an e-mail address sealed by the vault under
the person's own data key, its blind index), 100,000 registrations over 50 services (name, national
ID, phone, address and e-mail sealed under each person's key for the agency's controller, with their
blind indexes), 10,000,000 access-log records over 90 days (stored and rolled up by the access log's
own Loader, past days closed as the follower closes them) and 1,000,000 audit entries, chained by
the audit log's own sequencer.
`small` is 1% of that and `tiny` 0.01%: the baseline a benchmark at a scale compares with is the
scale 100 times smaller, built the same way.

Rows go in by COPY, never one save per row: the ciphertext is made with the vault's own primitives
(raksa.vault.crypto, raksa.vault.indexes), in two worker processes. The organisations, services,
policies and news come first, through the apps' own actions, as `raksa demo` loads them.

Each scale lives in its own pair of databases (main and key store). A marker row written last says
the set is complete; `ensure` reuses a complete set of the current VERSION and rebuilds anything
else. The keys are fixed and derived from public text: this data is synthetic, never secret.
"""

import base64
import datetime
import hashlib
import json
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg

from bench import scratch

if TYPE_CHECKING:
    from raksa.accesslog.ingest import Loader

# Bump when what is built changes: older sets are then rebuilt.
VERSION = 3
PG_SERVER = os.environ.get("RAKSA_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
ROOT = Path(__file__).resolve().parent.parent
SCALES = {"full": 1.0, "small": 0.01, "tiny": 0.0001}
_WORLD = "raksa_bench_world"
# Files of the data sets (the news pictures), beside the databases they belong to.
FILES = scratch.CACHE
_WORLD_DIR = FILES / "world"
_WORLD_LOCK = 0x7261_6B73_6177_6F72
FULL = {"citizens": 1_000_000, "registrations": 100_000, "access_records": 10_000_000, "audit_entries": 1_000_000}
SERVICES = 50
DAYS = 90
# Every citizen's password (one Argon2id hash shared by all: hashing a million would take hours).
PASSWORD = "bench citizen passphrase"  # noqa: S105  (synthetic accounts)
# Worker processes of the bulk load: one per core of this machine. On a machine shared with other
# work, more take a larger share of its cores (BENCH_WORKERS).
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
# Records per Loader.write when loading a day: a whole day of the full set in one batch (the roll-ups
# then upsert each page, browser and visitor once per day, not once per 20,000 records).
_DAY_BATCH = 120_000
_MARKER = "bench_dataset"
# The tables the bulk load writes: their indexes and foreign keys are made after it.
_LOADED = (
    "accesslog_accessrecord",
    "subjects_subject",
    "accounts_user",
    "accounts_accountemail",
    "services_registration",
    "audit_auditentry",
)
# The data sets this process made sure of: checked once per run, not once per benchmark.
_ENSURED: dict[str, "Dataset"] = {}


def _bench_key(label: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(f"raksa bench {label}".encode()).digest()).decode().rstrip("=")


KEYS = {
    "RAKSA_SECRET_KEY": _bench_key("secret"),
    "RAKSA_MASTER_KEY": f"bench:{_bench_key('master')}",
    "RAKSA_INDEX_KEY": _bench_key("index"),
    "RAKSA_AUDIT_SIGNING_KEY": _bench_key("audit signing"),
}


@dataclass(frozen=True)
class Dataset:
    scale: str
    seconds: float
    reused: bool

    @property
    def name(self) -> str:
        return {"full": "raksa_bench_data", "world": _WORLD}.get(self.scale, f"raksa_bench_data_{self.scale}")

    @property
    def counts(self) -> dict[str, int]:
        return counts(self.scale)

    @property
    def build_dir(self) -> Path:
        return FILES / self.scale

    @property
    def url(self) -> str:
        return f"{PG_SERVER}/{self.name}"

    def environment(self, var_dir: Path | str, **extra: str) -> dict[str, str]:
        """The environment a process serving or measuring this data set runs with."""
        inherited = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("RAKSA_", "DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DEBUG"))
        }
        return {
            **inherited,
            **KEYS,
            "DATABASE_URL": self.url,
            "RAKSA_KEYSTORE_URL": f"{self.url}_keys",
            "RAKSA_VAR_DIR": str(var_dir),
            # The news pictures the build stored.
            "RAKSA_MEDIA_DIR": str(self.build_dir / "media"),
            "RAKSA_LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "raksa.settings",
            **extra,
        }


def counts(scale: str) -> dict[str, int]:
    return {name: max(1, round(count * SCALES[scale])) for name, count in FULL.items()}


def baseline_of(scale: str) -> str:
    """The scale a measurement at `scale` compares with: 100 times smaller."""
    return {"full": "small", "small": "tiny"}[scale]


def ensure(scale: str, *, rebuild: bool = False, log: Callable[[str], object] = print) -> Dataset:
    """The data set at this scale, built (timed) unless a complete one of this VERSION exists."""
    if not rebuild and scale in _ENSURED:
        return _ENSURED[scale]
    # Two runs at once (two checkouts) build a set once: the second waits, then finds it complete.
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as server:
        lock = int.from_bytes(hashlib.sha256(f"raksa bench {scale}".encode()).digest()[:8], "big", signed=True)
        server.execute("SELECT pg_advisory_lock(%s)", [lock])
        try:
            _ENSURED[scale] = _ensure_locked(scale, rebuild=rebuild, log=log)
        finally:
            server.execute("SELECT pg_advisory_unlock(%s)", [lock])
    return _ENSURED[scale]


def ensured() -> list["Dataset"]:
    """The data sets this process has used, in the order it first asked for them."""
    return list(_ENSURED.values())


def _ensure_locked(scale: str, *, rebuild: bool, log: Callable[[str], object]) -> "Dataset":
    dataset = Dataset(scale, 0.0, reused=True)
    marker = None if rebuild else _marker(dataset.name)
    if marker is not None:
        if marker["schema"] != scratch.fingerprint():
            # Its schema follows the code's migrations (other work adds them all the time).
            with tempfile.TemporaryDirectory(prefix="raksa-bench-migrate-") as var:
                subprocess.run(
                    [sys.executable, "-m", "bench.scratch"], env=dataset.environment(var), cwd=ROOT, check=True
                )
            with psycopg.connect(dataset.url, autocommit=True) as database:
                database.execute(f"UPDATE {_MARKER} SET schema = %s", [scratch.fingerprint()])
        return Dataset(scale, marker["seconds"], reused=True)
    log(f"bench: building the {scale} data set ({', '.join(f'{n:,} {k}' for k, n in dataset.counts.items())})…")
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as server:
        for name in (dataset.name, f"{dataset.name}_keys"):
            server.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    started = time.perf_counter()
    _ensure_world(log)
    # Copies of the world: the migrations and the world are made once per change, not per data set.
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as server:
        server.execute(f"CREATE DATABASE {dataset.name} TEMPLATE {_WORLD}")
        server.execute(f"CREATE DATABASE {dataset.name}_keys TEMPLATE {_WORLD}_keys")
    shutil.rmtree(dataset.build_dir, ignore_errors=True)
    shutil.copytree(_WORLD_DIR, dataset.build_dir)
    done = subprocess.run(
        [sys.executable, "-m", "bench.dataset", scale],
        env=dataset.environment(dataset.build_dir),
        cwd=ROOT,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"building the {scale} data set failed (exit {done.returncode})")
    seconds = time.perf_counter() - started
    with psycopg.connect(dataset.url, autocommit=True) as database:
        database.execute(f"UPDATE {_MARKER} SET seconds = %s, schema = %s", [seconds, scratch.fingerprint()])
    log(f"bench: the {scale} data set took {seconds:.0f} s to build")
    return Dataset(scale, seconds, reused=False)


def _ensure_world(log: Callable[[str], object]) -> None:
    """Makes the world every data set starts from (in `raksa_bench_world`, copied by CREATE DATABASE …
    TEMPLATE, and its news pictures in FILES/world), unless one of this VERSION and schema exists."""
    wanted = f"{VERSION} {scratch.fingerprint()}"
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as server:
        server.execute("SELECT pg_advisory_lock(%s)", [_WORLD_LOCK])
        try:
            row = server.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [f"{_WORLD}_keys"]
            ).fetchone()
            if row is not None and row[0] == wanted and (_WORLD_DIR / "media").exists():
                return
            began = time.perf_counter()
            for name in (_WORLD, f"{_WORLD}_keys"):
                server.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            scratch.postgres(_WORLD)
            scratch.postgres(f"{_WORLD}_keys", keystore=True)
            shutil.rmtree(_WORLD_DIR, ignore_errors=True)
            (_WORLD_DIR / "media").mkdir(parents=True)
            subprocess.run(
                [sys.executable, "-m", "bench.dataset", "world"],
                env=Dataset("world", 0.0, reused=False).environment(_WORLD_DIR),
                cwd=ROOT,
                check=True,
            )
            for name in (_WORLD, f"{_WORLD}_keys"):
                server.execute(f"ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false")
            server.execute(f"COMMENT ON DATABASE {_WORLD}_keys IS '{wanted}'")
            log(f"bench: the world every data set starts from took {time.perf_counter() - began:.0f} s")
        finally:
            server.execute("SELECT pg_advisory_unlock(%s)", [_WORLD_LOCK])


def server_version() -> str:
    with psycopg.connect(f"{PG_SERVER}/postgres", connect_timeout=3) as server:
        row = server.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else ""


def _marker(name: str) -> dict | None:
    try:
        with psycopg.connect(f"{PG_SERVER}/{name}", connect_timeout=3) as database:
            row = database.execute(f"SELECT version, seconds, schema FROM {_MARKER}").fetchone()
    except psycopg.Error:
        return None
    if row is None or row[0] != VERSION:
        return None
    return {"seconds": row[1], "schema": row[2]}


# --- the build, in a child process with the data set's environment ---------------------------------
def subject_id(number: int) -> uuid.UUID:
    """Citizen number N's subject ID: fixed, so every part of the build (and a benchmark) can name it."""
    return uuid.UUID(bytes=hashlib.blake2b(number.to_bytes(8), digest_size=16).digest(), version=4)


def user_id(number: int) -> uuid.UUID:
    return uuid.UUID(bytes=hashlib.blake2b(number.to_bytes(8), digest_size=16, person=b"account").digest(), version=4)


def username(number: int) -> str:
    return f"citizen{number}"


def _build(scale: str) -> None:
    import django

    django.setup()
    from django.db import connections

    amounts = counts(scale)
    # The databases are copies of the world's (_ensure_world): migrated, the world made.
    world = _describe_world()
    citizens = amounts["citizens"]
    chunk = 50_000
    first: list[tuple] = [("citizens", start, min(start + chunk, citizens)) for start in range(0, citizens, chunk)]
    # The audit chain is one task (each hash chains on the one before); it starts early, being the longest.
    first.insert(min(2, len(first)), ("audit", amounts["audit_entries"], citizens, world))
    per_day = amounts["access_records"] // DAYS
    # A task holds a day of the full set, or as many days of a smaller one: each task has a fixed
    # cost (a process's Loader, each day's key and partition), which dominated the small sets' build.
    group = max(1, _DAY_BATCH // per_day)
    days = [
        ("access", tuple(range(start, min(start + group, DAYS))), per_day, citizens, world["paths"])
        for start in range(0, DAYS, group)
    ]
    registrations = [
        ("registrations", start, min(start + 10_000, amounts["registrations"]), citizens, world)
        for start in range(0, amounts["registrations"], 10_000)
    ]
    # Indexes are built once after the load (a sort) rather than grown row by row.
    set_aside = {
        "default": _set_aside("default", _LOADED, keys=("accesslog_accessrecord",)),
        "keystore": _set_aside("keystore", ("vault_datakey", "vault_blindindex")),
    }
    # Fresh processes (not forks of this one, whose database connections they would share).
    connections.close_all()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(WORKERS, mp_context=context, initializer=_worker_setup) as pool:
        submitted = [(task[0], pool.submit(_task, task)) for task in [*first, *days]]
        work: dict[str, float] = {}
        for future in [future for kind, future in submitted if kind == "citizens"]:
            _tally(work, future.result())
        # Registrations point at their citizens: they go in once every citizen is in.
        rest = [future for kind, future in submitted if kind != "citizens"]
        rest += [pool.submit(_task, task) for task in registrations]
        for future in rest:
            _tally(work, future.result())
    _say(", ".join(f"{kind} {seconds:.1f} s" for kind, seconds in work.items()) + f" of work in {WORKERS} processes")
    began = time.perf_counter()
    # The two databases side by side (each on a core of its own when the machine has them).
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(_remake, set_aside, set_aside.values()))
    _say(f"indexes and constraints in {time.perf_counter() - began:.1f} s")
    began = time.perf_counter()
    _finish(scale, amounts)
    _say(f"closing the days, statistics and the marker in {time.perf_counter() - began:.1f} s")


def _tally(work: dict[str, float], done: tuple[str, float]) -> None:
    kind, seconds = done
    work[kind] = work.get(kind, 0.0) + seconds


def _say(message: str) -> None:
    print(f"bench data: {message}", file=sys.stderr, flush=True)


def _set_aside(alias: str, tables: tuple[str, ...], *, keys: tuple[str, ...] = ()) -> list[str]:
    """Drops the tables' foreign keys and their indexes that back no constraint (and the primary keys
    of `keys`, which nothing references); returns the statements that make them again after the load,
    each a sort or one checking join rather than work per row (indexes of partitions included)."""
    from django.db import connections

    with connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid::regclass::text = ANY(%s) AND (contype = 'f' OR (contype = 'p' AND "
            "conrelid::regclass::text = ANY(%s))) ORDER BY contype DESC",
            [list(tables), list(keys)],
        )
        constraints = cursor.fetchall()
        for table, name, _definition in constraints:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) AND indexname NOT IN "
            "(SELECT conindid::regclass::text FROM pg_constraint WHERE conindid <> 0)",
            [list(tables)],
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    # Keys first (the foreign keys' checks use them), the foreign keys last.
    remade = [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}' for table, name, definition in constraints]
    return [
        *(statement for statement in remade if "FOREIGN KEY" not in statement),
        *(definition.replace(" ON ONLY ", " ON ") for _name, definition in indexes),
        *(statement for statement in remade if "FOREIGN KEY" in statement),
    ]


def _remake(alias: str, statements: list[str]) -> None:
    from django.db import connections

    with connections[alias].cursor() as cursor:
        cursor.execute("SET maintenance_work_mem TO '512MB'")
        for statement in statements:
            cursor.execute(statement)
    connections[alias].close()


def _worker_setup() -> None:
    import django

    django.setup()


def _task(task: tuple) -> tuple[str, float]:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    kind, *arguments = task
    parts: dict[str, Callable[..., None]] = {
        "citizens": _citizens,
        "registrations": _registrations,
        "access": _access,
        "audit": _audit,
    }
    parts[kind](*arguments)
    return kind, time.perf_counter() - started


def _make_world() -> None:
    """Organisations, accounts of staff, 50 services with their fields, policies and news: through
    the apps' own actions, as `raksa demo` loads them."""
    from bench import content as content_bench
    from raksa.content import demo as content_demo
    from raksa.core import demo
    from raksa.organisations import actions as organisations
    from raksa.organisations.models import Controller, StaffMembership
    from raksa.services import actions as services
    from raksa.services.models import Service

    demo.load_organisations()
    demo.load_accounts()
    demo.load_services()
    bma = Controller.objects.get(slug=demo.BMA["slug"])
    officer = StaffMembership.objects.get(user__username="officer.minburi")
    districts = ["lat-krabang", "nong-chok", "khlong-sam-wa", "bang-kapi"]
    existing = Service.objects.count()
    for number in range(SERVICES - existing):
        district = districts[number % len(districts)]
        agency = organisations.upsert_agency(
            controller=bma,
            slug=district,
            name_th=f"สำนักงานเขต{district}",
            name_en=f"{district.replace('-', ' ').title()} District Office",
            dpo_email=f"dpo.{district}@bma.example",
        )
        service = services.create_service(
            agency=agency,
            slug=f"{district}-request-{number}",
            kind="service",
            title_th=f"คำร้องทั่วไป ลำดับที่ {number}",
            title_en=f"General request number {number}",
            description_th="ยื่นคำร้องต่อสำนักงานเขต เจ้าหน้าที่จะติดต่อกลับ",
            description_en="File a request with the district office; an officer contacts you.",
            actor=None,
        )
        for position, (category, purpose, required) in enumerate(demo.CERTIFICATE_FIELDS):
            services.declare_field(
                service=service,
                category=category,
                purpose=purpose,
                legal_basis="pdpa_24_4",
                required=required,
                position=position,
                actor=None,
            )
        if agency.pk == officer.agency_id:
            services.assign_officer(service=service, staff=officer, actor=None)
    demo.load_policies()
    content_demo.load()
    # The news a city's site has (the content benchmark's home page reads them).
    content_bench.seed_news()


def _describe_world() -> dict:
    """What the bulk parts need to know of the world."""
    from raksa.organisations.models import Agency, Controller
    from raksa.services import actions as services
    from raksa.services.models import Service

    service_rows = [
        {
            "id": service.pk,
            "slug": service.slug,
            "agency_id": service.agency_id,
            "controller_id": service.agency.controller_id,
            "notice_id": services.current_notice(service).pk,
            "fields": [field.category for field in service.fields.all()],
        }
        for service in Service.objects.select_related("agency").filter(kind="service").order_by("pk")
    ]
    paths = ["/th/", "/en/", "/th/news/", "/th/services/", "/th/agencies/", "/th/search/", "/th/accounts/login/"]
    paths += [f"/th/services/{row['slug']}/" for row in service_rows]
    paths += [f"/th/news/{number}/" for number in range(1, 400)]
    paths += ["/th/me/data/", "/th/services/mine/", "/en/services/", "/en/news/", "/th/policy/"]
    return {
        "services": service_rows,
        "operator": Controller.objects.get(is_platform_operator=True).pk,
        "agencies": list(Agency.objects.values_list("pk", flat=True)),
        "paths": paths,
    }


def _copy(database: str, table: str, columns: Iterable[str], rows: Iterable[tuple]) -> None:
    from django.db import connections, transaction

    with (
        transaction.atomic(using=database),
        connections[database].cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


@dataclass(frozen=True)
class _Key:
    """A freshly made data key: its key-store row, and what sealing under it needs."""

    row: tuple
    aead: object
    header: bytes


def _new_key(subject: uuid.UUID, controller_id: int, retention: str, created: str, master: object) -> _Key:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from raksa.vault import crypto

    raw = crypto.new_data_key()
    key_id = uuid.uuid4()
    wrapped = crypto.wrap(master, key_id, raw)  # type: ignore[arg-type]
    row = (key_id, subject, controller_id, retention, wrapped, master.key_id, created)  # type: ignore[attr-defined]
    return _Key(row, AESGCM(raw), crypto.header(key_id.bytes))


_KEY_COLUMNS = ("id", "subject_id", "controller_id", "retention", "wrapped", "master_key_id", "created_at")
_INDEX_COLUMNS = (
    "kind",
    "digest",
    "subject_id",
    "controller_id",
    "retention",
    "store",
    "field",
    "object_id",
    '"unique"',
)


def _moment(rng: random.Random, now: datetime.datetime) -> datetime.datetime:
    return now - datetime.timedelta(seconds=rng.randrange(DAYS * 86_400))


def _citizens(start: int, stop: int) -> None:
    from django.contrib.auth.hashers import make_password

    from raksa.accounts.models import AccountEmail
    from raksa.registry import registry
    from raksa.vault import crypto, indexes

    rng = random.Random(start)
    now = datetime.datetime.now(datetime.UTC)
    master = crypto.current_master_key()
    password = make_password(PASSWORD)
    declaration = registry.declaration(AccountEmail, "email")
    retention = declaration.retention.code
    store = AccountEmail.vault_store
    from raksa.organisations.models import Controller

    operator = Controller.objects.get(is_platform_operator=True).pk
    subjects, users, emails, keys, blind = [], [], [], [], []
    for number in range(start, stop):
        subject, account, row_id = subject_id(number), user_id(number), uuid.uuid4()
        joined = _moment(rng, now).isoformat()
        address = f"{username(number)}@example.org"
        key = _new_key(subject, operator, retention, joined, master)
        sealed = crypto.seal(key.aead, key.header, address, crypto.associated_data(store, "email", row_id))  # type: ignore[arg-type]
        subjects.append((subject, joined))
        users.append((account, password, False, username(number), subject, False, True, joined, joined))
        emails.append((row_id, subject, operator, account, sealed))
        keys.append(key.row)
        digest = indexes.digest("email", address)
        blind.append(("email", digest, subject, operator, retention, store, "email", row_id, declaration.unique))
    _copy("default", "subjects_subject", ("id", "created_at"), subjects)
    _copy(
        "default",
        "accounts_user",
        (
            "id",
            "password",
            "is_superuser",
            "username",
            "subject_id",
            "is_staff",
            "is_active",
            "date_joined",
            "email_confirmed_at",
        ),
        users,
    )
    _copy("default", "accounts_accountemail", ("id", "subject_id", "controller_id", "user_id", "email"), emails)
    _copy("keystore", "vault_datakey", _KEY_COLUMNS, keys)
    _copy("keystore", "vault_blindindex", _INDEX_COLUMNS, blind)


def national_id(number: int) -> str:
    """A valid Thai national ID (its 13th digit is the checksum of the first twelve)."""
    digits = f"1{number % 10**11:011d}"
    check = (11 - sum(int(digit) * (13 - position) for position, digit in enumerate(digits)) % 11) % 10
    return digits + str(check)


def _registrations(start: int, stop: int, citizens: int, world: dict) -> None:
    from raksa.registry import registry
    from raksa.services.models import Registration, Status
    from raksa.vault import crypto, indexes

    rng = random.Random(start)
    now = datetime.datetime.now(datetime.UTC)
    master = crypto.current_master_key()
    store = Registration.vault_store
    declarations = {code: registry.declaration(Registration, code) for code in ("name", "phone", "email")}
    declarations |= {code: registry.declaration(Registration, code) for code in ("national_id", "address", "message")}
    retention = declarations["name"].retention.code
    statuses = [Status.RECEIVED, Status.IN_PROGRESS, Status.APPROVED, Status.COMPLETED, Status.REJECTED]
    services = world["services"]
    columns = ["name", "national_id", "address", "phone", "email", "message"]
    registrations, keys, blind = [], [], []
    for number in range(start, stop):
        # A permutation of the citizens (the step is prime to any count used): one registration each,
        # so each has its own data key for the service's controller.
        citizen = (number * 7_919) % citizens
        subject = subject_id(citizen)
        service = services[number % len(services)]
        created = _moment(rng, now)
        status = rng.choice(statuses)
        key = _new_key(subject, service["controller_id"], retention, created.isoformat(), master)
        keys.append(key.row)
        row_id = uuid.uuid4()
        values = {
            "name": f"ผู้ขอ ลำดับที่ {citizen}",
            "national_id": national_id(citizen),
            "address": f"{citizen % 999 + 1} ถนนสีหบุรานุกิจ\nแขวงมีนบุรี เขตมีนบุรี\nกรุงเทพมหานคร 10510",
            "phone": f"08{citizen % 10**8:08d}",
            "email": f"{username(citizen)}@example.org",
            "message": "ขอรับเอกสารที่สำนักงานเขต",
        }
        sealed: dict[str, bytes | None] = {}
        for code in columns:
            if code not in service["fields"]:
                sealed[code] = None
                continue
            sealed[code] = crypto.seal(
                key.aead,  # type: ignore[arg-type]
                key.header,
                values[code],
                crypto.associated_data(store, code, row_id),
            )
            declaration = declarations[code]
            if declaration.indexed and declaration.category.index:
                digest = indexes.digest(declaration.category.index, values[code])
                index_row = (declaration.category.index, digest, subject, service["controller_id"], retention)
                blind.append((*index_row, store, code, row_id, declaration.unique))
        closed = created.isoformat() if status in (Status.COMPLETED, Status.REJECTED) else None
        registrations.append(
            (
                row_id,
                subject,
                service["controller_id"],
                service["id"],
                service["notice_id"],
                status,
                uuid.uuid4(),
                "[]",
                "th",
                created.isoformat(),
                created.isoformat(),
                closed,
                *(sealed[code] for code in columns),
            )
        )
    _copy(
        "default",
        "services_registration",
        (
            "id",
            "subject_id",
            "controller_id",
            "service_id",
            "notice_id",
            "status",
            "submission_key",
            "explicit_consents",
            "language",
            "created_at",
            "updated_at",
            "closed_at",
            *columns,
        ),
        registrations,
    )
    _copy("keystore", "vault_datakey", _KEY_COLUMNS, keys)
    _copy("keystore", "vault_blindindex", _INDEX_COLUMNS, blind)


# First octets of Thai providers' address blocks.
_NETWORKS = (49, 58, 110, 171, 182, 203)


def _access(backs: tuple[int, ...], count: int, citizens: int, paths: list[str]) -> None:
    """Some days' records (each `back` days ago), stored and rolled up by the access log's own Loader:
    one for them all, which parses each browser string once."""
    from raksa.accesslog.ingest import Loader

    loader = Loader()
    for back in backs:
        _access_day(loader, back, count, citizens, paths)


def _access_day(loader: "Loader", back: int, count: int, citizens: int, paths: list[str]) -> None:
    from zoneinfo import ZoneInfo

    from django.conf import settings

    from bench.accesslog import AGENTS

    rng = random.Random(1_000 + back)
    zone = ZoneInfo(settings.TIME_ZONE)
    today = datetime.datetime.now(zone).date()
    day = today - datetime.timedelta(days=back)
    start = datetime.datetime.combine(day, datetime.time.min, zone)
    span_ms = 86_400_000
    if back == 0:  # today: up to now
        span_ms = max(1, int((datetime.datetime.now(zone) - start).total_seconds() * 1000))
    base_ms = int(start.timestamp() * 1000)
    # Visitors of the day: each an address and a browser, some signed in.
    clients = [
        (
            f"{rng.choice(_NETWORKS)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
            AGENTS[rng.randrange(len(AGENTS))].format(rng.randrange(10)),
            str(subject_id(rng.randrange(citizens))) if rng.random() < 0.1 else "",
        )
        for _ in range(max(5, count // 20))
    ]
    # Popular pages first: a page's weight falls with its rank, as on real sites.
    weights = [1 / (rank + 1) for rank in range(len(paths))]
    referrers = ["", "", "", "https://www.google.com/", "https://www.facebook.com/", "https://www.bangkok.go.th/"]
    source = f"bench-{day.isoformat()}"
    for offset in range(0, count, _DAY_BATCH):
        size = min(_DAY_BATCH, count - offset)
        picked_paths = rng.choices(paths, weights, k=size)
        picked_clients = rng.choices(clients, k=size)
        # random() rather than randrange(): a third of the cost, and these need no exact uniformity.
        draw = rng.random
        records = []
        for index in range(size):
            ip, agent, subject = picked_clients[index]
            roll = draw()
            status, method = ("200", "GET") if roll < 0.95 else ("302", "POST") if roll < 0.98 else ("404", "GET")
            records.append(
                (
                    str(base_ms + int(draw() * span_ms)),
                    str(2_000 + int(draw() * 88_000)),
                    method,
                    status,
                    str(900 + int(draw() * 59_100)),
                    ip,
                    "raksa.example",
                    picked_paths[index],
                    referrers[index % len(referrers)],
                    agent,
                    subject,
                    f"{rng.getrandbits(128):032x}",
                )
            )
        loader.store(records, source=source, last_sequence=offset + size, offset=0)


def _audit(entries: int, citizens: int, world: dict) -> None:
    """Entries over the 90 days, then chained by the sequencer itself (`raksa audit chain` does the same)."""
    from django.db import connection, transaction

    from raksa.audit.chain import chain_pending

    rng = random.Random(3)
    now = datetime.datetime.now(datetime.UTC)
    start = now - datetime.timedelta(days=DAYS)
    step = (DAYS * 86_400 - 3_600) / entries
    kinds = [
        ("account.login", "", "user", "", "", "", "allowed"),
        (
            "services.registered",
            "",
            "registration",
            "address,email,name,national_id,phone",
            "service_delivery",
            "pdpa_24_4",
            "allowed",
        ),
        ("vault.read", "officer", "registration", "name,phone", "service_delivery", "pdpa_24_4", "allowed"),
        ("consent.given", "", "consent", "", "marketing", "consent", "allowed"),
        ("rights.export_requested", "", "export", "", "", "", "allowed"),
        ("account.login", "", "user", "", "", "", "denied"),
    ]
    services = world["services"]

    def rows() -> Iterator[tuple]:
        for number in range(entries):
            moment = start + datetime.timedelta(seconds=number * step)
            citizen = rng.randrange(citizens)
            action, role, object_type, fields, purpose, basis, outcome = kinds[number % len(kinds)]
            staff = role == "officer"
            yield (
                moment,
                user_id(citizen) if not staff else user_id(citizens + number % 7),
                role,
                services[number % len(services)]["agency_id"] if object_type == "registration" else None,
                subject_id(citizen),
                action,
                object_type,
                str(uuid.uuid4()),
                fields,
                purpose,
                basis,
                f"{rng.getrandbits(128):032x}",
                outcome,
            )

    columns = (
        "time, actor_id, role, agency_id, subject_id, action, object_type, object_id, fields, purpose, legal_basis, "
        "request_id, outcome"
    )
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY audit_auditentry ({columns}) FROM STDIN") as copy,
    ):
        for row in rows():
            copy.write_row(row)
    chain_pending()


def _finish(scale: str, amounts: dict[str, int]) -> None:
    from django.db import connection, connections

    from raksa.accesslog.actions import destroy_past_salts

    # What the follower does as each day closes: salts destroyed, long lists compacted, weeks rolled up.
    # Its statistics may still describe the empty table the build started from: the compaction plans by them.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE accesslog_dailycount")
    destroy_past_salts()
    # What autovacuum would do next on a deployed server (this one runs with it off): closing the days
    # deleted nearly all of a busy day's roll-up rows, and their dead entries would slow every reader.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM accesslog_dailycount")
    for alias in ("default", "keystore"):
        with connections[alias].cursor() as cursor:
            cursor.execute("ANALYZE")
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {_MARKER} (version integer, scale text, counts jsonb, seconds double precision, "
            "built_at timestamptz, schema text)"
        )
        cursor.execute(
            f"INSERT INTO {_MARKER} VALUES (%s, %s, %s, 0, now())",
            [VERSION, scale, json.dumps(amounts)],
        )


if __name__ == "__main__":
    if sys.argv[1] == "world":
        import django

        django.setup()
        _make_world()
    else:
        _build(sys.argv[1])
