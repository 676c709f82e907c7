"""Log lines that input cannot forge and that never name the database's server or account.

A value with CR or LF (a header, a form field, an exception's text) would otherwise start a line of
its own that reads like a record the site never wrote. Control characters are written escaped.

A database driver's message names what it was talking to ("connection to server at "db.internal",
port 5432 failed: FATAL: password authentication failed for user "raksa_app"") or the values it
refused ("Key (username)=(somchai) already exists"). While the database is down, every request logs
such a traceback (`django.request`), so the lines keep the traceback and the error's class and
SQLSTATE, and withhold the message; the configured hosts, users and passwords of every database are
withheld wherever else they appear.
"""

import logging
import re
import traceback
from functools import lru_cache
from types import TracebackType

from django.conf import settings

_ESCAPES = {**{code: f"\\x{code:02x}" for code in range(0x20)}, 0x7F: "\\x7f", 0x0A: "\\n", 0x0D: "\\r"}
_ESCAPES |= {0x2028: "\\u2028", 0x2029: "\\u2029", 0x85: "\\x85"}
WITHHELD = "[withheld]"
_DRIVER_MODULES = ("django.db", "psycopg", "sqlite3")

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


class OneLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for error in _database_errors(record):
            text = _withhold_message(text, error)
        text = _connection_details().sub(WITHHELD, text)
        return text.replace("\\", "\\\\").translate(_ESCAPES)

    def formatException(self, ei: ExcInfo) -> str:  # noqa: N802 (logging's name)
        # The traceback is cached on the record for every other handler: withhold here, not only in format().
        text = super().formatException(ei)
        for error in _chain(ei[1]):
            text = _withhold_message(text, error)
        return text


def withheld_traceback(error: BaseException) -> str:
    """An error's traceback as a log line would show it, for a record kept elsewhere (a failed task's)."""
    text = "".join(traceback.format_exception(error))
    for cause in _chain(error):
        text = _withhold_message(text, cause)
    return _connection_details().sub(WITHHELD, text)


def _database_errors(record: logging.LogRecord) -> list[BaseException]:
    """The driver errors a record carries: its exception's chain, and any error passed as an argument."""
    errors = _chain(record.exc_info[1] if record.exc_info else None)
    arguments = record.args.values() if isinstance(record.args, dict) else (record.args or ())
    for argument in arguments:
        if isinstance(argument, BaseException):
            errors += _chain(argument)
    return errors


def _chain(error: BaseException | None) -> list[BaseException]:
    found: list[BaseException] = []
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if type(error).__module__.startswith(_DRIVER_MODULES) and str(error):
            found.append(error)
        error = error.__cause__ or error.__context__
    return found


def _withhold_message(text: str, error: BaseException) -> str:
    sqlstate = getattr(error, "sqlstate", None)
    note = f"{WITHHELD} (SQLSTATE {sqlstate})" if sqlstate else WITHHELD
    return text.replace(str(error), note)


def _connection_details() -> re.Pattern[str]:
    details = set()
    for database in settings.DATABASES.values():
        for key in ("HOST", "USER", "PASSWORD"):
            value = str(database.get(key) or "")
            if value:
                details.add(value)
    return _pattern(frozenset(details))


@lru_cache(maxsize=8)
def _pattern(details: frozenset[str]) -> re.Pattern[str]:
    if not details:
        return re.compile(r"(?!)")
    alternatives = "|".join(re.escape(value) for value in sorted(details, key=len, reverse=True))
    # A dotted name that merely starts with the value (a user "raksa", a logger "raksa.audit") is not it.
    return re.compile(rf"(?<![\w.-])(?:{alternatives})(?![\w-]|\.\w)")
