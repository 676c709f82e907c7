"""What a following daemon (the audit sequencer, the access-log ingester, the daily retention run) says
and how long it waits when its database does not answer.

The daemons outlive a database restart by trying again. Each try logs the error's kind — its class
and the database's own code (PostgreSQL's SQLSTATE, SQLite's error name), never its message, which may
name values or the server — and waits longer after each failure in a row, so a database down for an
hour is asked a few dozen times, not thousands, and the log says why without flooding.
"""


def error_kind(error: BaseException) -> str:
    """The class of a database error and the first code found on its chain: 'OperationalError
    (SQLSTATE 57P01)', 'OperationalError (SQLITE_BUSY)', or the class alone."""
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        code = getattr(cause, "sqlstate", None) or getattr(cause, "sqlite_errorname", None)
        if code:
            return f"{type(error).__name__} ({'SQLSTATE ' if getattr(cause, 'sqlstate', None) else ''}{code})"
        # The explicit cause only (Django's wrapper sets it): an error raised while another was being
        # handled carries that one as its context, whose code would be the wrong one.
        cause = cause.__cause__
    return type(error).__name__


def retry_delay(failures: int, *, first: float, longest: float) -> float:
    """Seconds to wait after `failures` failures in a row: `first`, doubling with each, at most `longest`."""
    return min(longest, first * 2 ** min(max(failures, 1) - 1, 32))
