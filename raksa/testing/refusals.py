"""A database that really refuses a write, for tests of what a failure leaves behind (no mock)."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections, router
from django.db.models import Model


@contextmanager
def refusing_updates(model: type[Model]) -> Iterator[str]:
    """The model's database really refuses to update its rows while this lasts (a trigger that raises
    on every UPDATE, as a store gone read-only or whose role lost its rights would), made and dropped
    inside the test's transaction; yields the name of the error Django raises for it."""
    connection = connections[router.db_for_write(model)]
    table = connection.ops.quote_name(model._meta.db_table)
    postgresql = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgresql:
            cursor.execute(
                "CREATE FUNCTION raksa_test_refuse() RETURNS trigger LANGUAGE plpgsql "
                "AS $$ BEGIN RAISE EXCEPTION 'the database refuses'; END $$"
            )
            cursor.execute(
                f"CREATE TRIGGER raksa_test_refuse BEFORE UPDATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION raksa_test_refuse()"
            )
        else:
            cursor.execute(
                f"CREATE TRIGGER raksa_test_refuse BEFORE UPDATE ON {table} "
                "BEGIN SELECT RAISE(ABORT, 'the database refuses'); END"
            )
    try:
        # psycopg files PL/pgSQL's RAISE (P0001) under ProgrammingError; SQLite's RAISE(ABORT) is a constraint's.
        yield "ProgrammingError" if postgresql else "IntegrityError"
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER raksa_test_refuse{f' ON {table}' if postgresql else ''}")
            if postgresql:
                cursor.execute("DROP FUNCTION raksa_test_refuse()")
