"""Set-based statements for ending many rows at once (retention): IDs cross between the databases as text.

The key store is a database of its own, so the rows a retention batch ends in the main database
are named to it by their IDs. They travel as 32 lowercase hex digits — how SQLite stores a UUID and
a form PostgreSQL reads — in one parameter (an array on PostgreSQL, a JSON array on SQLite), never
as thousands of UUID objects or bound parameters.
"""

import json
import re
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from django.db import connections
from django.db.models import CharField, Model, QuerySet, Value
from django.db.models.functions import Cast, Replace

from raksa.vault.models import BlindIndex, DataKey
from raksa.vault.routers import KEYSTORE

# Table and column names below are the models' own, never input (hence the `noqa: S608`).
INDEXES = BlindIndex._meta.db_table
KEYS = DataKey._meta.db_table


def hex_id(value: uuid.UUID | str) -> str:
    return value.hex if isinstance(value, uuid.UUID) else value.replace("-", "").lower()


def hex_text(lookup: str) -> Replace:
    """A UUID lookup as 32 hex digits, read as text (no UUID object made per row)."""
    return Replace(Cast(lookup, output_field=CharField()), Value("-"), Value(""))


_HEX_IDS = re.compile(r"(?:[0-9a-f]{32}(?:,[0-9a-f]{32})*)?")


def _list_parameter(vendor: str, values: Sequence[str]) -> str:
    """Hex IDs as one parameter: a JSON array (SQLite), or an array literal PostgreSQL casts (nothing
    to escape in hex; psycopg took 18-28 ms to adapt a list of 5,000 strings, the literal 9-12). Checked
    first, all at once: a value with a comma or brace would be read as two IDs, and one in another form
    (dashes, capitals) would match nothing, leaving its rows behind without a word."""
    joined = ",".join(values)
    # As many IDs in the text as values given: no value held a comma of its own.
    length = 33 * len(values) - 1 if values else 0
    if len(joined) != length or _HEX_IDS.fullmatch(joined) is None:
        raise ValueError("bulk IDs must be 32 lowercase hex digits each")
    return "{" + joined + "}" if vendor == "postgresql" else json.dumps(list(values))


def delete_indexes(*, store: str, object_ids: Sequence[str]) -> int:
    """Deletes the blind indexes of these rows of a store, in one statement."""
    if not object_ids:
        return 0
    connection = connections[KEYSTORE]
    if connection.vendor == "postgresql":
        among = "object_id = ANY(%s::uuid[])"
    else:
        among = "object_id IN (SELECT value FROM json_each(%s))"
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {INDEXES} WHERE store = %s AND {among}",  # noqa: S608  # nosec B608
            [store, _list_parameter(connection.vendor, object_ids)],
        )
        return cursor.rowcount


def delete_dependents(*, model: type[Model], field: str, rows: QuerySet, ids: Sequence[str], using: str) -> int:
    """Deletes the model's rows whose foreign key `field` points at one of `rows`, whose IDs (hex) are
    `ids`, in one statement: on SQLite driven by the IDs (an index probe each; a subquery found the
    rows again, 37-42 ms a batch of 5,000), on PostgreSQL a semi-join with the rows' query (its planner
    starts from the dependents when they are few, where parsing 5,000 UUIDs cost 10-25 ms a batch)."""
    if not ids:
        return 0
    connection = connections[using]
    if connection.vendor == "postgresql":
        return model._base_manager.using(using).filter(**{f"{field}__in": rows.values("pk")}).delete()[0]
    table = connection.ops.quote_name(model._meta.db_table)
    column = connection.ops.quote_name(model._meta.get_field(field).column)  # type: ignore[union-attr,arg-type]
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE {column} IN (SELECT value FROM json_each(%s))",  # noqa: S608  # nosec B608
            [_list_parameter(connection.vendor, ids)],
        )
        return cursor.rowcount


def destroy_keys(*, retention: str, scopes: Iterable[tuple[str, int | None]], now: datetime) -> list[bytes]:
    """Destroys the live keys of one retention class for these (subject hex, controller) pairs (a
    controller of None: all of the subject's), in one statement; returns the IDs destroyed."""
    pairs = sorted(scopes, key=lambda pair: (pair[0], pair[1] or 0))
    if not pairs:
        return []
    connection = connections[KEYSTORE]
    if connection.vendor == "postgresql":
        scope = "unnest(%s::uuid[], %s::int[]) AS s(subject, controller)"
        parameters: list[list[int | None] | str] = [
            _list_parameter(connection.vendor, [subject for subject, _ in pairs]),
            [controller for _, controller in pairs],
        ]
        subject, controller = "s.subject", "s.controller"
        when: datetime | str | None = now
    else:
        scope = "json_each(%s) AS s"
        parameters = [json.dumps(pairs)]
        subject, controller = "json_extract(s.value, '$[0]')", "json_extract(s.value, '$[1]')"
        when = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        # Joined with the pairs (UPDATE … FROM: a key two pairs match is updated once), where an `id IN`
        # subquery found each key again by its primary key: 25,000 keys (5 statements) in 79 ms, not 105, on SQLite,
        # 1,666 in 17.7 ms instead of 20.3 on PostgreSQL (warm, the bench's key store, rolled back).
        cursor.execute(
            f"UPDATE {KEYS} AS k SET wrapped = NULL, destroyed_at = %s FROM {scope} "  # noqa: S608  # nosec B608
            f"WHERE k.subject_id = {subject} AND ({controller} IS NULL OR k.controller_id = {controller}) "
            "AND k.retention = %s AND k.destroyed_at IS NULL RETURNING id",
            [when, *parameters, retention],
        )
        # SQLite's IDs come as hex text: read as bytes directly (a UUID made for each cost 1.5 us a key).
        return [key.bytes if isinstance(key, uuid.UUID) else bytes.fromhex(key) for (key,) in cursor.fetchall()]


def still_sealing(
    *, model: type[Model], subject: str, controller: str, fields: Sequence[str], subjects: Sequence[str], using: str
) -> set[tuple[str, int]]:
    """The (subject hex, controller) pairs among these subjects that still hold a value in one of
    these fields of the model's table, in the database `using` (where its rows are written, not a
    replica), in one statement driven by the subjects (an index probe each, whatever the table's size)."""
    if not subjects:
        return set()
    connection = connections[using]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = {name: quote(model._meta.get_field(name).column) for name in (subject, controller, *fields)}  # type: ignore[union-attr,arg-type]
    live = " OR ".join(f"r.{columns[name]} IS NOT NULL" for name in fields)
    if connection.vendor == "postgresql":
        source, key = "unnest(%s::uuid[]) AS s(subject)", "s.subject"
        text = f"replace(r.{columns[subject]}::text, '-', '')"
    else:
        source, key, text = "json_each(%s) AS s", "s.value", f"r.{columns[subject]}"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT {text}, r.{columns[controller]} FROM {source} "  # noqa: S608  # nosec B608
            f"JOIN {table} r ON r.{columns[subject]} = {key} WHERE {live}",
            [_list_parameter(connection.vendor, subjects)],
        )
        return {(found, controller_id) for found, controller_id in cursor.fetchall()}
