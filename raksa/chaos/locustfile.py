"""Citizens writing through Raksa, for locust (`make load`): each logs in to an account of its own and
registers, cancels, files requests and gives or withdraws consent (raksa.chaos.citizens), reading the
pages each write needs. Every request is also appended to RAKSA_CHAOS_REQUEST_LOG (start time, page,
status, milliseconds, error), so that the run can be cut into time windows afterwards.
"""

import csv
import itertools
import os
import re
import threading
import time
from urllib.parse import urlsplit

from locust import User, between, task

from raksa.chaos.citizens import Citizen

_ACCOUNTS = int(os.environ.get("RAKSA_CHAOS_ACCOUNTS", "50"))
_NUMBERS = itertools.count()
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_LOG = open(os.environ.get("RAKSA_CHAOS_REQUEST_LOG", os.devnull), "a", newline="")  # noqa: SIM115 (the run's length)
_WRITER = csv.writer(_LOG)


class WritingCitizen(User):
    wait_time = between(1, 3)

    def on_start(self) -> None:
        port = urlsplit(self.host).port or 80
        self.person = Citizen(next(_NUMBERS) % _ACCOUNTS, port, threading.Event())
        self.person.client.observer = self._observe

    def _observe(
        self, method: str, path: str, status: int | None, milliseconds: float, size: int, error: Exception | None
    ) -> None:
        name = _ID.sub("[id]", path)
        self.environment.events.request.fire(
            request_type=method,
            name=name,
            response_time=milliseconds,
            response_length=size,
            exception=error,
            context={},
        )
        _WRITER.writerow(
            [f"{time.time() - milliseconds / 1000:.3f}", name, status or "", f"{milliseconds:.1f}", error or ""]
        )
        _LOG.flush()

    @task
    def write(self) -> None:
        self.person.step()
