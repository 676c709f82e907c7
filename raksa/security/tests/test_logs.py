"""Log lines that input cannot forge and that name no database server or account (S1)."""

import io
import logging
import logging.config
import os
import secrets
import traceback
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import connections
from django.db.backends.postgresql.base import DatabaseWrapper as PostgreSQLWrapper
from django.http import HttpResponseBase
from django.test import Client, SimpleTestCase, override_settings

from raksa.core.logformat import OneLineFormatter
from raksa.testing import pgcheck

FORGED = "2026-11-22 10:00:00,000 INFO raksa.accounts login ok for admin"


@contextmanager
def configured_database(configuration: dict[str, Any]) -> Iterator[None]:
    """settings.DATABASES with one more database, "canary", while it lasts: what the log formatter reads
    to know which hosts, users and passwords to withhold. The connection handler keeps its own copy of
    the databases it was configured with (no connection to "canary" can be opened), which is what
    Django's warning about overriding DATABASES is about: it does not apply here."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Overriding setting DATABASES", UserWarning)
        overridden = override_settings(DATABASES={**settings.DATABASES, "canary": configuration})
        overridden.enable()
    try:
        yield
    finally:
        overridden.disable()


class LogLineTests(SimpleTestCase):
    def site_handler(self) -> tuple[logging.Logger, io.StringIO]:
        """A private logger whose handler is the site's console handler as configured, writing to a buffer."""
        config: dict[str, Any] = settings.LOGGING
        self.assertIn("console", config["root"]["handlers"])
        formatter_name = config["handlers"]["console"]["formatter"]
        formatter = logging.config.DictConfigurator({}).configure_formatter(dict(config["formatters"][formatter_name]))
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        handler.setFormatter(formatter)
        log = logging.getLogger("raksa.security.forgery")
        log.propagate = False
        log.addHandler(handler)
        self.addCleanup(log.removeHandler, handler)
        return log, stream

    def test_it_keeps_cr_and_lf_in_a_logged_value_on_one_line_s1(self) -> None:
        log, stream = self.site_handler()
        for breaker in ("\n", "\r\n", "\r", "\u2028", "\x85"):
            log.warning("refused sign-in for %s", f"somchai{breaker}{FORGED}")
        lines = stream.getvalue().splitlines()
        self.assertEqual(len(lines), 5, lines)
        self.assertFalse(any(line.startswith(FORGED) for line in lines))
        self.assertIn("somchai\\n2026-11-22", lines[0])

    def test_it_keeps_a_traceback_that_quotes_input_on_one_line_s1(self) -> None:
        log, stream = self.site_handler()
        try:
            raise ValueError(f"bad value\n{FORGED}")
        except ValueError:
            log.exception("could not save")
        self.assertEqual(len(stream.getvalue().splitlines()), 1)
        self.assertIn("Traceback", stream.getvalue())

    def test_it_withholds_a_database_user_but_not_names_that_start_with_it_s1(self) -> None:
        self.enterContext(configured_database({"USER": "raksa"}))  # as production's account might be called
        log, stream = self.site_handler()
        log.warning("raksa.audit: login for user raksa failed at raksa.")
        self.assertIn("raksa.audit: login for user [withheld] failed at [withheld].", stream.getvalue())


class DatabaseDetailTests(SimpleTestCase):
    """While the database is down every request logs a traceback: none may name its server or account.

    The default connection is replaced, for one request, by a PostgreSQL connection configured with
    canary values: first an unresolvable canary host, then the test server with a canary user,
    password and database (which it refuses by name). The site answers 503, and the site's console
    handler, which every logger writes through, must show none of them.
    """

    # Only to lift SimpleTestCase's guard: the one request's connection never reaches a database.
    databases = {"default"}

    def setUp(self) -> None:
        self.token = "cnry" + secrets.token_hex(4)
        handler = next(
            handler
            for handler in logging.getLogger().handlers
            if isinstance(handler, logging.StreamHandler) and isinstance(handler.formatter, OneLineFormatter)
        )
        self.log = io.StringIO()
        previous = handler.setStream(self.log)
        self.addCleanup(handler.setStream, previous)
        self.errors: list[str] = []
        got_request_exception.connect(self.record_error)
        self.addCleanup(got_request_exception.disconnect, self.record_error)

    def record_error(self, sender: object, request: object = None, **kwargs: object) -> None:
        self.errors.append(traceback.format_exc())

    def request_with_database(self, **details: str) -> HttpResponseBase:
        """One request whose default connection is PostgreSQL with these details, configured as in production."""
        configured = {**connections["default"].settings_dict, **details}
        configured.update(ENGINE="django.db.backends.postgresql", OPTIONS={"connect_timeout": 3})
        canary = PostgreSQLWrapper(configured, alias="default")
        original = connections["default"]
        self.enterContext(configured_database(configured))  # the configuration the formatter knows, as in production
        connections["default"] = canary
        try:
            return Client(raise_request_exception=False).get("/th/services/", secure=True)
        finally:
            connections["default"] = original
            canary.close()

    def assert_withheld(self, response: HttpResponseBase, canaries: list[str]) -> None:
        self.assertEqual(response.status_code, 503)
        self.assertTrue(
            any(canaries[0] in error for error in self.errors), "the driver's message named the canary (not blind)"
        )
        logged = self.log.getvalue()
        self.assertIn("OperationalError", logged, "the outage was logged")
        self.assertEqual([canary for canary in canaries if canary in logged], [], logged)

    def test_it_keeps_an_unreachable_database_hosts_name_out_of_the_log_s1(self) -> None:
        host = f"{self.token}-host.invalid"
        response = self.request_with_database(HOST=host, USER=f"{self.token}user", NAME=f"{self.token}db")
        self.assert_withheld(response, [host, f"{self.token}user", f"{self.token}db"])

    def test_it_keeps_the_database_user_and_password_out_of_the_log_s1(self) -> None:
        server = urlsplit(os.environ.get("RAKSA_TEST_PG", "postgres://postgres@127.0.0.1:5432"))
        if pgcheck.main(server.geturl()) != 0:
            self.skipTest("no PostgreSQL server answers at RAKSA_TEST_PG to refuse the canary user by name")
        user, password = f"{self.token}user", f"{self.token}pass"
        response = self.request_with_database(
            HOST=server.hostname or "", PORT=str(server.port or 5432), USER=user, PASSWORD=password, NAME=user
        )
        self.assert_withheld(response, [user, password, f"postgres://{user}"])
