"""What ending a registration's values costs, in three table designs, on both databases (issue 14).

Not a figure of `raksa bench`: the measurement behind a design decision, kept so that it can be run
again (`python -m bench.retention_shapes [ROWS]`, PostgreSQL at RAKSA_BENCH_PG in a scratch database
named by RAKSA_SHAPES_DB, dropped after). Each design holds ROWS registrations shaped as
`services_registration` (its indexes, two 60-byte sealed values a row, cases closed in the order the
rows were written) and ends half of them in batches of 5,000 in closing order, as the engine does:

- `today`: the values emptied by an UPDATE, the batch found by the partial index on `erased_at`;
- `values table`: the values in a table of their own (keyed by the registration, with the person
  and the closing time), ended by a DELETE there; the registration row is not touched;
- `no index changes`: the UPDATE of `today` with no index on a column it changes (the queue index
  without its `erased_at` predicate) and, on PostgreSQL, a fillfactor of 50, so that the new row
  versions fit beside the old ones (HOT: no index entry written).

Each line says the seconds for the ended half; only ratios within one run mean anything on a
shared machine.
"""

import datetime
import os
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg

PG_SERVER = os.environ.get("RAKSA_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
BATCH = 5000
VALUES = (
    "name", "gender", "birth_date", "national_id", "address", "workplace", "phone", "email", "interests", "message",
    "health", "disability", "religion", "criminal_record",
)  # fmt: skip
EMPTIED = ", ".join(f"{column} = NULL" for column in VALUES)
META = (
    "id {uuid} PRIMARY KEY, subject_id {uuid} NOT NULL, controller_id bigint, service_id bigint, notice_id bigint, "
    "status varchar(20), submission_key {uuid} UNIQUE, explicit_consents text, language varchar(5), "
    "created_at {time}, updated_at {time}, closed_at {time}, erased_at {time}"
)
SEALED = ", ".join(f"{column} {{blob}}" for column in VALUES)
LOADED = "id, subject_id, controller_id, service_id, notice_id, status, submission_key, explicit_consents, language, "
LOADED += "created_at, updated_at, closed_at"


def _tables(types: dict[str, str], fillfactor: str) -> list[str]:
    meta, sealed = META.format(**types), SEALED.format(**types)
    statements = []
    for table, storage in (("today", ""), ("hot", fillfactor)):
        statements += [
            f"CREATE TABLE {table} ({meta}, {sealed}){storage}",
            f"CREATE INDEX {table}_queue ON {table} (service_id, status, created_at)",
            f"CREATE INDEX {table}_subject ON {table} (subject_id, created_at)",
        ]
    statements += [
        "CREATE INDEX today_due ON today (closed_at, id) WHERE erased_at IS NULL",
        "CREATE INDEX hot_due ON hot (closed_at, id)",
        f"CREATE TABLE kept ({meta})",
        "CREATE INDEX kept_queue ON kept (service_id, status, created_at)",
        "CREATE INDEX kept_subject ON kept (subject_id, created_at)",
        f"CREATE TABLE sealed (registration_id {types['uuid']} PRIMARY KEY REFERENCES kept (id), "
        f"subject_id {types['uuid']} NOT NULL, controller_id bigint, closed_at {types['time']}, {sealed})",
        "CREATE INDEX sealed_due ON sealed (closed_at, registration_id)",
        "CREATE INDEX sealed_subject ON sealed (subject_id)",
    ]
    return statements


def _rows(count: int, as_id: Callable[[uuid.UUID], object]) -> list[tuple]:
    """Registrations whose cases closed a second apart, in the order the rows are written."""
    value, first = os.urandom(60), datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    rows = []
    for index in range(count):
        at = (first + datetime.timedelta(seconds=index)).isoformat()
        ids = (as_id(uuid.uuid4()), as_id(uuid.uuid4()), 1, 1, 1, "completed", as_id(uuid.uuid4()))
        rows.append((*ids, "[]", "th", at, at, at, value, value))
    return rows


def _ends(
    execute: Callable[[str, tuple], object], fetch: Callable[[str, tuple], object], rows: int
) -> dict[str, float]:
    """Ends the first half of each design's rows in batches; the seconds each design took."""
    designs = {
        "today": (
            "SELECT closed_at FROM today WHERE erased_at IS NULL AND closed_at > %s ORDER BY closed_at, id",
            f"UPDATE today SET erased_at = closed_at, {EMPTIED} WHERE erased_at IS NULL AND closed_at > %s AND "
            "closed_at <= %s",
        ),
        "values table": (
            "SELECT closed_at FROM sealed WHERE closed_at > %s ORDER BY closed_at, registration_id",
            "DELETE FROM sealed WHERE closed_at > %s AND closed_at <= %s",
        ),
        "no index changes": (
            "SELECT closed_at FROM hot WHERE closed_at > %s ORDER BY closed_at, id",
            f"UPDATE hot SET erased_at = closed_at, {EMPTIED} WHERE erased_at IS NULL AND closed_at > %s AND "
            "closed_at <= %s",
        ),
    }
    seconds = {}
    for design, (bound, end) in designs.items():
        last = ""
        started = time.perf_counter()
        for _batch in range(rows // 2 // BATCH):
            execute("BEGIN", ())
            found = fetch(f"{bound} LIMIT 1 OFFSET {BATCH - 1}", (last,))
            execute(end, (last, found))
            execute("COMMIT", ())
            last = found  # type: ignore[assignment]
        seconds[design] = time.perf_counter() - started
    return seconds


def _sqlite(rows: int, directory: Path) -> dict[str, float]:
    database = sqlite3.connect(directory / "shapes.sqlite3", isolation_level=None)
    database.execute("PRAGMA journal_mode=WAL")
    database.execute("PRAGMA synchronous=NORMAL")
    database.execute("BEGIN")
    for statement in _tables({"uuid": "char(32)", "time": "text", "blob": "blob"}, ""):
        database.execute(statement)
    loaded = _rows(rows, lambda value: value.hex)
    marks = ", ".join("?" * 14)
    for table in ("today", "hot"):
        database.executemany(f"INSERT INTO {table} ({LOADED}, name, phone) VALUES ({marks})", loaded)
    database.executemany(f"INSERT INTO kept ({LOADED}) VALUES ({', '.join('?' * 12)})", [row[:12] for row in loaded])
    database.executemany(
        "INSERT INTO sealed (registration_id, subject_id, controller_id, closed_at, name, phone) "
        "VALUES (?, ?, 1, ?, ?, ?)",
        [(row[0], row[1], row[11], row[12], row[13]) for row in loaded],
    )
    database.execute("COMMIT")
    database.execute("ANALYZE")

    def fetch(sql: str, parameters: tuple) -> object:
        return database.execute(sql.replace("%s", "?"), parameters).fetchone()[0]

    return _ends(lambda sql, parameters: database.execute(sql.replace("%s", "?"), parameters), fetch, rows)


def _postgres(rows: int, name: str) -> dict[str, float]:
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as server:
        server.execute(f"CREATE DATABASE {name}")
    try:
        with psycopg.connect(f"{PG_SERVER}/{name}", autocommit=True) as database:
            for statement in _tables(
                {"uuid": "uuid", "time": "timestamptz", "blob": "bytea"}, " WITH (fillfactor = 50)"
            ):
                database.execute(statement)
            loaded = _rows(rows, lambda value: value)
            with database.cursor() as cursor:
                for table, columns, values in (
                    ("today", f"{LOADED}, name, phone", loaded),
                    ("hot", f"{LOADED}, name, phone", loaded),
                    ("kept", LOADED, [row[:12] for row in loaded]),
                    (
                        "sealed",
                        "registration_id, subject_id, controller_id, closed_at, name, phone",
                        [(row[0], row[1], 1, row[11], row[12], row[13]) for row in loaded],
                    ),
                ):
                    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                        for row in values:
                            copy.write_row(row)
            database.execute("VACUUM ANALYZE")
            database.execute("CHECKPOINT")

            def fetch(sql: str, parameters: tuple) -> object:
                start = parameters[0] or "-infinity"
                return database.execute(sql, (start,)).fetchone()[0]  # type: ignore[index]

            def execute(sql: str, parameters: tuple) -> object:
                if sql in ("BEGIN", "COMMIT"):
                    return database.execute(sql)
                return database.execute(sql, (parameters[0] or "-infinity", parameters[1]))

            return _ends(execute, fetch, rows)
    finally:
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as server:
            server.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def main(rows: int) -> None:
    with tempfile.TemporaryDirectory(prefix="raksa-shapes-") as directory:
        found = {"SQLite": _sqlite(rows, Path(directory))}
    found["PostgreSQL"] = _postgres(rows, os.environ.get("RAKSA_SHAPES_DB", f"raksa_bench_shapes_{os.getpid()}"))
    print(
        f"load average {os.getloadavg()[0]:.1f}; {rows // 2:,} of {rows:,} registrations ended in batches of {BATCH:,}"
    )
    for database, seconds in found.items():
        today = seconds["today"]
        shares = ", ".join(
            f"{design} {took:.2f} s ({took / today:.2f} of today's time)" for design, took in seconds.items()
        )
        print(f"{database}: {shares}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000)
