"""Helpers for tests of what two database sessions do to each other (holds, lock waits, interleavings)."""

import time
from collections.abc import Callable

from django.db import OperationalError, connections


def until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the interleaving never happened")
        time.sleep(0.01)


def waiting_for_a_lock(alias: str = "default") -> bool:
    """Whether some session of the database waits for a lock (PostgreSQL; a fresh look each time)."""
    observer = connections.create_connection(alias)
    try:
        with observer.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            return cursor.fetchone()[0] > 0
    finally:
        observer.close()


def beginning_a_write_on_another_connection(alias: str = "default") -> str:
    """SQLite: what beginning a write transaction on another connection to the database gives."""
    other = connections.create_connection(alias)
    with other.cursor() as cursor:
        try:
            cursor.execute("BEGIN IMMEDIATE")
        except OperationalError as refused:
            return str(refused)
        cursor.execute("ROLLBACK")  # closing an in-memory database's connection is ignored: end it
    other.close()
    return "begun"
