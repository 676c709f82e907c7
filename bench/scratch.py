"""Empty, migrated databases for the benchmarks, copied from templates instead of migrated each time.

Running every migration takes 15 to 45 s on this machine, and a bench run needs a dozen fresh databases
(scratch sites on SQLite and PostgreSQL, the data sets). So the migrations run once into templates:
two PostgreSQL databases (`raksa_bench_template_FINGERPRINT`, and `_keys` for the key store) and two
SQLite files (CACHE/templates/FINGERPRINT/); a fresh database is then `CREATE DATABASE … TEMPLATE …`
or a file copy. The fingerprint covers Raksa's migrations and the pinned requirements (those of the
apps it uses): when any of them changes, new templates are made beside the old. Checkouts with other
migrations (a branch beside main) each copy their own, never one another's half-made or rebuilt
template; those used least lately beyond KEPT_TEMPLATES are dropped. A process that migrates a
copy finds nothing left to do.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import django
import psycopg

PG_SERVER = os.environ.get("RAKSA_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
ROOT = Path(__file__).resolve().parent.parent
# What the benchmarks build once and reuse (SQLite templates, collected static files, the data sets'
# pictures): outside any one checkout, as the PostgreSQL server is, so that every checkout on this
# machine (CI's clean clone too) reuses them. Everything in it is named by a fingerprint of its sources.
CACHE = Path(os.environ.get("RAKSA_BENCH_FILES", Path.home() / ".cache" / "raksa-bench"))
TEMPLATE = "raksa_bench_template"
# PostgreSQL template pairs kept (one per fingerprint, those used most lately): the checkouts a
# machine benchmarks at once.
KEPT_TEMPLATES = 4
ALIASES = ("default", "keystore")
# Held while the PostgreSQL templates are checked or made: two bench runs at once build them once.
_LOCK = 0x7261_6B73_6174_6D70
# A complete template's comment: when it was last used (seconds since the epoch).
_USED_AT = "used at "


def fingerprint() -> str:
    digest = hashlib.sha256(django.get_version().encode())
    for path in sorted([*ROOT.glob("raksa/*/migrations/*.py"), *ROOT.glob("requirements/*.txt")]):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def prepare() -> None:
    """Makes both kinds of template now, side by side, if the code's migrations changed."""
    with ThreadPoolExecutor(2) as pool:
        sqlite_made = pool.submit(_sqlite_templates)
        postgres_template()
        sqlite_made.result()


def postgres(name: str, *, keystore: bool = False) -> None:
    """Creates the PostgreSQL database `name`, migrated for the main database (or the key store). The
    copy is made under the templates' lock: no other checkout drops its template before it starts."""
    with _postgres_templates() as (server, template):
        server.execute(f"CREATE DATABASE {name} TEMPLATE {template}{'_keys' if keystore else ''}")


def postgres_site(name: str) -> None:
    """Creates the PostgreSQL databases `name` and `{name}_keys` (main and key store), or neither: the
    main one is dropped again if the key store cannot be made. Raises psycopg.Error if they cannot be."""
    postgres(name)
    try:
        postgres(f"{name}_keys", keystore=True)
    except psycopg.Error:
        drop_postgres(name)
        raise


def postgres_template(*, keystore: bool = False) -> str:
    """The name of the migrated template of this code's migrations (made first if there is none), for a
    copy made later (Django's test databases): marked used now, so it is the last to be dropped."""
    with _postgres_templates() as (_server, template):
        return f"{template}_keys" if keystore else template


def environment(url: str, keystore: str, scratch: Path) -> dict[str, str]:
    """The environment of a benchmark's child process over scratch databases (its main database and key
    store apart, as in production), files in `scratch`."""
    return {
        **os.environ,
        "DATABASE_URL": url,
        "RAKSA_KEYSTORE_URL": keystore,
        "RAKSA_AUDIT_CHECKPOINT_FILE": str(scratch / "checkpoints.jsonl"),
        "DJANGO_SETTINGS_MODULE": os.environ.get("RAKSA_BENCH_SETTINGS", "raksa.settings"),
        "RAKSA_LOG_LEVEL": "WARNING",
        "DEBUG": "false",  # as in production: no query log in memory
    }


def drop_postgres(name: str) -> None:
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as server:
        server.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def sqlite(path: Path, *, keystore: bool = False) -> Path:
    """Writes a migrated SQLite database at `path` (the main database's schema, or the key store's)."""
    shutil.copyfile(_sqlite_templates() / ("keystore.sqlite3" if keystore else "main.sqlite3"), path)
    return path


def _sqlite_templates() -> Path:
    directory = CACHE / "templates" / fingerprint()
    if (directory / "keystore.sqlite3").exists():
        return directory
    directory.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix="building-", dir=directory.parent))
    _migrate(f"sqlite:///{building / 'main.sqlite3'}", f"sqlite:///{building / 'keystore.sqlite3'}")
    try:
        building.rename(directory)
    except OSError:
        # Another run made them meanwhile: theirs are the same.
        shutil.rmtree(building, ignore_errors=True)
    return directory


@contextmanager
def _postgres_templates() -> Iterator[tuple[psycopg.Connection, str]]:
    """A connection to the server holding the templates' lock, and the main template's name, the pair
    made first if this fingerprint has none. The name holds the fingerprint, so a template is never
    made again under a name another checkout copies from (with one name for all, a branch's bench
    rebuilt it while main's copied it: "template does not exist")."""
    name = f"{TEMPLATE}_{fingerprint()}"
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as server:
        server.execute("SELECT pg_advisory_lock(%s)", [_LOCK])
        try:
            row = server.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [f"{name}_keys"]
            ).fetchone()
            made = row is None or row[0] is None
            if made:
                _make_postgres_templates(server, name)
            # Used now (the comment, written last when a pair is made, also says it is complete): the
            # pairs used least lately are the ones dropped.
            server.execute(f"COMMENT ON DATABASE {name}_keys IS '{_USED_AT}{time.time():.0f}'")
            if made:  # only a new pair makes too many
                _drop_old_templates(server)
            yield server, name
        finally:
            server.execute("SELECT pg_advisory_unlock(%s)", [_LOCK])


def _make_postgres_templates(server: psycopg.Connection, name: str) -> None:
    for each in (name, f"{name}_keys"):
        server.execute(f"DROP DATABASE IF EXISTS {each} WITH (FORCE)")
        server.execute(f"CREATE DATABASE {each}")
    _migrate(f"{PG_SERVER}/{name}", f"{PG_SERVER}/{name}_keys")
    for each in (name, f"{name}_keys"):
        # Nobody connects to a template (a connection would make copying it fail).
        server.execute(f"ALTER DATABASE {each} WITH ALLOW_CONNECTIONS false")


def _drop_old_templates(server: psycopg.Connection) -> None:
    """Drops the template pairs past the KEPT_TEMPLATES used most lately (and any made before templates
    were named by fingerprint). Copies are made under the same lock, so none is under way."""
    made = server.execute(
        "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database WHERE datname LIKE %s",
        [f"{TEMPLATE}%_keys"],
    ).fetchall()

    def used_at(comment: str | None) -> int:
        return int(comment.removeprefix(_USED_AT)) if comment and comment.startswith(_USED_AT) else 0

    latest_first = sorted(made, key=lambda row: used_at(row[1]), reverse=True)
    for keys, _used_at in latest_first[KEPT_TEMPLATES:]:
        for each in (keys.removesuffix("_keys"), keys):
            server.execute(f"DROP DATABASE IF EXISTS {each} WITH (FORCE)")


def _migrate(main: str, keystore: str) -> None:
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("RAKSA_", "DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DEBUG"))
    }
    with tempfile.TemporaryDirectory(prefix="raksa-bench-template-") as var:
        environment = {
            **inherited,
            "DATABASE_URL": main,
            "RAKSA_KEYSTORE_URL": keystore,
            "RAKSA_VAR_DIR": var,
            "RAKSA_LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "raksa.settings",
        }
        subprocess.run([sys.executable, "-m", "bench.scratch"], env=environment, cwd=ROOT, check=True)


if __name__ == "__main__":
    django.setup()
    from django.core.management import call_command

    for alias in ALIASES:
        call_command("migrate", database=alias, verbosity=0)
