from collections.abc import Iterator

import pytest
from django.test import override_settings

from raksa.testing.mailbox import Mailbox


class RealSmtp:
    """Mixin for TestCase classes whose mail goes to the suite's real SMTP server (`self.mailbox`)."""

    mailbox: Mailbox

    @pytest.fixture(autouse=True)
    def _real_smtp(self, mailbox: Mailbox) -> Iterator[None]:
        # Django's test set-up swaps every mailer for locmem; these tests send over real SMTP.
        smtp = {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": mailbox.host, "port": mailbox.port, "timeout": 5},
        }
        self.mailbox = mailbox
        with override_settings(MAILERS={"default": smtp}):
            yield
