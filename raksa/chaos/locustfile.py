"""Citizens using Raksa, for locust: the one journey definition of `make load` (raksa/chaos/load.py)
and of the benchmarks' journeys (`raksa bench load`, bench/load.py).

Each simulated citizen has an account of its own (chaosN, made by raksa.chaos.citizens.CREATE_ACCOUNTS;
RAKSA_CHAOS_ACCOUNTS says how many, RAKSA_CHAOS_ACCOUNT_PREFIX names them otherwise) and, in turn,
browses the public pages, writes (logging in first: registers for a service or cancels, files a
request, gives or withdraws consent; raksa.chaos.citizens) and opens their own data. It talks to
Raksa as deployed, behind a TLS proxy whose part the client plays (raksa.testing.webclient). Every
request is also appended to RAKSA_CHAOS_REQUEST_LOG when set (start time, page, status,
milliseconds, error), so that a run can be cut into time windows.

    locust -f raksa/chaos/locustfile.py --headless --users 50 --spawn-rate 10 --host http://127.0.0.1:PORT
"""

import csv
import http.client
import itertools
import os
import random
import re
import threading
import time
from urllib.parse import urlsplit

from locust import User, between, task

from raksa.chaos.citizens import SERVICE, Citizen

PUBLIC_PAGES = ("/th/", "/en/", "/th/news/", "/th/services/", f"/th/services/{SERVICE}/")
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
        if error is None and status is not None and status >= 400:
            # No page of these journeys answers 4xx to a person using the site as it is meant to be used.
            error = http.client.HTTPException(str(status))
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
    def browse(self) -> None:
        for path in random.sample(PUBLIC_PAGES, 2):
            try:
                self.person.client.get(path)
            except OSError:
                # Counted by the observer; a person tries again a moment later.
                return

    @task
    def write(self) -> None:
        self.person.step()

    @task
    def see_my_data(self) -> None:
        if "__Host-sessionid" not in self.person.client.cookies:
            return
        try:
            self.person.client.get("/th/me/data/")
        except OSError:
            return
