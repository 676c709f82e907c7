"""Log lines that input cannot forge: one record is one line, whatever its message holds.

A value with CR or LF (a header, a form field, an exception's text) would otherwise start a line of
its own that reads like a record the site never wrote. Control characters are written escaped.
"""

import logging

_ESCAPES = {**{code: f"\\x{code:02x}" for code in range(0x20)}, 0x7F: "\\x7f", 0x0A: "\\n", 0x0D: "\\r"}
_ESCAPES |= {0x2028: "\\u2028", 0x2029: "\\u2029", 0x85: "\\x85"}


class OneLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\\", "\\\\").translate(_ESCAPES)
