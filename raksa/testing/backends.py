"""Ending a connection's PostgreSQL backend from another session, as a restart or an administrator
would: the connection learns it at its next statement, with the driver's own error."""

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper


def terminate_backend(connection: BaseDatabaseWrapper) -> int:
    """Ends `connection`'s backend and waits (up to 5 s) until it is gone; its process ID."""
    pid: int = connection.connection.info.backend_pid
    other = connections.create_connection(connection.alias)
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
    finally:
        other.close()
    return pid
