"""A real SMTP server (aiosmtpd) on loopback that keeps what it receives, for tests to read."""

import email
import email.policy
import re
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass
class Mailbox:
    controller: Controller
    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def start(cls) -> "Mailbox":
        handler = _Handler()
        controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
        controller.start()
        box = cls(controller=controller)
        handler.mailbox = box
        global _running
        _running = box
        return box

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return self.controller.port

    def stop(self) -> None:
        self.controller.stop()

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()

    def received(self, to: str | None = None) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if to is None or to in (m["To"] or "")]


_running: Mailbox | None = None


def running() -> Mailbox:
    """The server this test process sends mail to (conftest.py starts it), for TestCase classes."""
    if _running is None:
        raise RuntimeError("no SMTP test server is running (conftest.py starts one per test process)")
    return _running


def links(message: EmailMessage) -> list[str]:
    """The http(s) links in a message's text."""
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    return re.findall(r"https?://\S+", text)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Handler:
    mailbox: Mailbox

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.mailbox.lock:
            self.mailbox.messages.append(message)
        return "250 Message accepted for delivery"
