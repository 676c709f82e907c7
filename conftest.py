"""Suite-wide test set-up: a fast password hasher and a real SMTP server for every worker."""

import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from raksa.testing.mailbox import Mailbox


def pytest_configure(config: pytest.Config) -> None:
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    # Argon2id is measured in bench/; in tests it would only make the suite slow.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The failed log-in's floor has its own test; elsewhere it would only make the suite slow.
    settings.RAKSA_LOGIN_FAILURE_MS = 0
    # Signed audit checkpoints go to a scratch file, never to the checkout's var/.
    checkpoints = tempfile.TemporaryDirectory(prefix="raksa-audit-")
    config.stash[_CHECKPOINTS] = checkpoints
    settings.RAKSA_AUDIT_CHECKPOINT_FILE = Path(checkpoints.name) / "checkpoints.jsonl"
    # Tests see every page freshly rendered; the public-page cache has its own test.
    settings.RAKSA_PUBLIC_PAGE_SECONDS = 0
    mailbox = Mailbox.start()
    config.stash[_MAILBOX] = mailbox
    settings.MAILERS = _smtp_mailers(mailbox)


def _smtp_mailers(mailbox: Mailbox) -> dict:
    return {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": mailbox.host, "port": mailbox.port, "timeout": 5},
        }
    }


@pytest.fixture(scope="session", autouse=True)
def _mail_goes_to_the_smtp_server(django_test_environment: None, request: pytest.FixtureRequest) -> None:
    """Django's test set-up swaps MAILERS for its in-memory outbox: send to the real SMTP server again."""
    settings.MAILERS = _smtp_mailers(request.config.stash[_MAILBOX])


def pytest_unconfigure(config: pytest.Config) -> None:
    mailbox = config.stash.get(_MAILBOX, None)
    if mailbox is not None:
        mailbox.stop()
    checkpoints = config.stash.get(_CHECKPOINTS, None)
    if checkpoints is not None:
        checkpoints.cleanup()


_MAILBOX = pytest.StashKey[Mailbox]()
_CHECKPOINTS = pytest.StashKey[tempfile.TemporaryDirectory]()


@pytest.fixture
def mailbox(request: pytest.FixtureRequest) -> Mailbox:
    """The SMTP server the site sends to, emptied for this test."""
    box = request.config.stash[_MAILBOX]
    box.clear()
    return box


@pytest.fixture(autouse=True)
def _no_audit_connection_kept() -> Iterator[None]:
    """The audit log keeps a connection per thread for entries committed apart from a transaction
    (raksa.audit.actions): closed after each test, so none outlives it (an open one would keep the
    test database from being dropped at the end)."""
    from raksa.audit.actions import close_apart_connection  # a model module: only once Django is set up

    yield
    close_apart_connection()


@pytest.fixture(autouse=True)
def _no_language_left_active() -> Iterator[None]:
    """A request to /en/… activates English in the test's own thread (LocaleMiddleware never resets
    it); without this, a later test would run in English depending on the order tests ran in."""
    yield
    translation.deactivate()
