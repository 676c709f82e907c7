"""Log lines that input cannot forge (S1): the site's configured handlers write one line per record."""

import io
import logging
import logging.config
from typing import Any

from django.conf import settings
from django.test import SimpleTestCase

FORGED = "2026-11-22 10:00:00,000 INFO raksa.accounts login ok for admin"


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
