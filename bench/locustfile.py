"""Citizens using Raksa, for locust: they browse, log in, register for a service and open their data.

`raksa bench load` runs it headless and time-bounded against gunicorn serving the bench data set; it
also runs on its own against any Raksa with the bench data set's accounts:

    locust -f bench/locustfile.py --headless --users 50 --spawn-rate 10 --run-time 5m \\
        --host http://127.0.0.1:8100

The accounts are citizen0 … citizenN-1 of `bench/dataset.py` (RAKSA_BENCH_CITIZENS says how many;
run from the project's root with PYTHONPATH=.); the services are those its pages list.

Raksa runs as in production, behind a TLS proxy: its cookies are Secure (`__Host-` names) and it
trusts X-Forwarded-Proto. On plain loopback HTTP a cookie jar would hold such cookies back, so this
client plays the proxy's part: it says `X-Forwarded-Proto: https`, sends an https Referer (Django's
CSRF check wants one on secure requests), and returns its cookies itself, following redirects by hand.
"""

import os
import random
import re
from html import unescape
from urllib.parse import urljoin, urlsplit

from locust import HttpUser, between, task
from requests import Response

from bench.dataset import PASSWORD, national_id

CITIZENS = int(os.environ.get("RAKSA_BENCH_CITIZENS", "10000"))
PUBLIC_PAGES = ("/th/", "/en/", "/th/news/", "/th/services/")
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
_SERVICE_LINK = re.compile(r'href="(/th/services/[a-z0-9-]+/)"')
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class JourneyError(Exception):
    """A page did not answer as a person using the site needs."""


class Citizen(HttpUser):
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.services: list[str] = []
        self.https = "https://" + str(urlsplit(self.host).netloc)

    # The proxy's part ---------------------------------------------------------------------------
    def _send(self, method: str, path: str, name: str, data: dict | None = None) -> Response:
        """One page as a browser gets it: the request, then its redirects, under one name in the stats."""
        with self.client.rename_request(name):
            while True:
                headers = {"X-Forwarded-Proto": "https", "Referer": self.https + path}
                cookies = "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.client.cookies)
                if cookies:
                    headers["Cookie"] = cookies
                response = self.client.request(method, path, data=data, headers=headers, allow_redirects=False)
                if response.status_code not in (301, 302, 303):
                    break
                path = urlsplit(urljoin(self.https + path, response.headers["Location"])).path
                method, data = "GET", None
        if response.status_code != 200:
            raise JourneyError(f"{name}: {response.status_code}")
        return response

    def get(self, path: str, name: str | None = None) -> Response:
        return self._send("GET", path, name or path)

    def post(self, path: str, data: dict, name: str | None = None) -> Response:
        return self._send("POST", path, name or path, data)

    # What citizens do ---------------------------------------------------------------------------
    @task(3)
    def browse(self) -> None:
        for path in random.sample(PUBLIC_PAGES, 2):
            page = self.get(path)
            if path == "/th/services/" and not self.services:
                self.services = sorted(set(_SERVICE_LINK.findall(page.text)))
        if self.services:
            self.get(random.choice(self.services), "/th/services/[service]/")

    @task(1)
    def register_and_see_my_data(self) -> None:
        if not self.services:
            self.services = sorted(set(_SERVICE_LINK.findall(self.get("/th/services/").text)))
        number = random.randrange(CITIZENS)
        login = self.get("/th/accounts/login/")
        landing = self.post(
            "/th/accounts/login/",
            {"csrfmiddlewaretoken": _token(login), "identifier": f"citizen{number}", "password": PASSWORD},
        )
        if "/accounts/login/" in landing.url:
            raise JourneyError(f"citizen{number} could not log in")
        service = random.choice(self.services)
        form = self.get(service, "/th/services/[service]/")
        # The registration form's own hidden fields only: the page's other forms have theirs, and the
        # service refuses any field it did not declare.
        hidden = {name: unescape(value) for name, value in _HIDDEN.findall(form.text)}
        registration = self.post(
            service + "register/",
            {
                **{name: hidden[name] for name in ("csrfmiddlewaretoken", "submission_key", "notice")},
                "name": f"ผู้ขอ ลำดับที่ {number}",
                "national_id": national_id(number),
                "address_line": "333 ถนนสีหบุรานุกิจ",
                "address_subdistrict": "มีนบุรี",
                "address_district": "มีนบุรี",
                "address_province": "กรุงเทพมหานคร",
                "address_postal_code": "10510",
                "phone": "081 234 5678",
                "email": f"citizen{number}@example.org",
            },
            "/th/services/[service]/register/",
        )
        if "/services/mine/" not in registration.url:
            raise JourneyError("the registration was not accepted")
        data = self.get("/th/me/data/")
        self.post("/th/accounts/logout/", {"csrfmiddlewaretoken": _token(data)})
        self.client.cookies.clear()


def _token(page: Response) -> str:
    match = _CSRF.search(page.text)
    if match is None:
        raise JourneyError(f"no CSRF token on {page.url}")
    return match.group(1)
