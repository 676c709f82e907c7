"""Citizens writing through a real server, each write numbered and remembered with the server's
answer, so that a test can hold the database to exactly what was acknowledged."""

import os
import re
import threading
import time
from dataclasses import dataclass, field

import psycopg

from raksa.testing.webclient import Response, WebClient

# raksa.core.demo's certificate of residence (named, not imported: locust loads this without Django).
SERVICE = "minburi-residence-certificate"
PASSWORD = "chaos-citizen-password"  # noqa: S105  (throwaway accounts on a throwaway cluster)
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

# The accounts are PREFIX0, PREFIX1…: a run on a shared data set names its own (bench/load.py), so
# that it starts from fresh accounts rather than from what earlier runs wrote into them.
ACCOUNT_PREFIX = os.environ.get("RAKSA_CHAOS_ACCOUNT_PREFIX", "chaos")
# Creates the citizens' accounts (run with `raksa shell -c`, in the server's environment).
CREATE_ACCOUNTS = """
import os
from raksa.accounts.models import User
from raksa.subjects.models import Subject
for number in range({count}):
    username = os.environ.get("RAKSA_CHAOS_ACCOUNT_PREFIX", "chaos") + str(number)
    if not User.objects.filter(username=username).exists():
        User.objects.create_user(username, {password!r}, subject=Subject.objects.create())
"""


@dataclass
class Attempt:
    kind: str  # registration, cancellation, request, consent
    citizen: int
    number: int
    status: int | None = None  # None: no answer at all (connection refused or cut)
    object_id: str = ""  # what the server confirmed it saved (from the redirect), if it did
    body: str = ""  # kept for errors, to check the page shown meanwhile

    @property
    def acknowledged(self) -> bool:
        return bool(self.object_id)


@dataclass
class Citizen:
    index: int
    port: int
    stop: threading.Event
    attempts: list[Attempt] = field(default_factory=list)
    errors: list[Response] = field(default_factory=list)
    client: WebClient = field(init=False)
    _turn: int = 0

    def __post_init__(self) -> None:
        self.client = WebClient("127.0.0.1", self.port)

    @property
    def username(self) -> str:
        return f"{ACCOUNT_PREFIX}{self.index}"

    def run(self) -> None:
        while not self.stop.is_set():
            if not self.step():
                # The server is unreachable or answered an error page: wait a little, as a person would.
                time.sleep(0.1)

    def step(self) -> bool:
        """One write (logging in first if needed); False when the server failed it."""
        try:
            if "__Host-sessionid" not in self.client.cookies:
                self.client.log_in(self.username, PASSWORD)
            kind = ("registration", "request", "consent")[self._turn % 3]
            attempt = Attempt(kind, self.index, self._turn)
            self.attempts.append(attempt)
            self._turn += 1
            getattr(self, f"_{kind}")(self.client, attempt)
        except (OSError, AssertionError):
            return False
        return True

    def _checked(self, response: Response) -> Response:
        if response.status >= 500:
            self.errors.append(response)
            raise AssertionError(f"{response.status} from {response.path}")
        return response

    def _send(self, client: WebClient, attempt: Attempt, action: str, values: list[tuple[str, str]]) -> str:
        """Posts the form; returns the redirect's address when the server confirmed."""
        try:
            answer = client.post(action, values)
        except OSError:
            attempt.status = None
            raise
        attempt.status = answer.status
        self._checked(answer)
        return answer.location if answer.status == 302 else ""

    def _registration(self, client: WebClient, attempt: Attempt) -> None:
        """Registers, then cancels (a person holds one live registration for a service at a time)."""
        page = self._checked(client.get(f"/en/services/{SERVICE}/"))
        action = f"/en/services/{SERVICE}/register/"
        if f'action="{action}"' not in page.body:
            self._cancel_live(client)
            return
        values = {
            "name": f"Chaos Citizen {self.index}",
            "national_id": "3100600445635",
            "address_line": "333 Si Hah Buranukit Road",
            "address_subdistrict": "Min Buri",
            "address_district": "Min Buri",
            "address_province": "Bangkok",
            "address_postal_code": "10510",
            "phone": "0812345678",
            "message": f"write {self.index}-{attempt.number}",
        }
        location = self._send(client, attempt, action, client.form(page, action, values))
        if found := re.search(rf"/services/mine/({_UUID})/", location):
            attempt.object_id = found[1]
            self._cancel(client, found[1])

    def _cancel_live(self, client: WebClient) -> None:
        mine = self._checked(client.get("/en/services/mine/"))
        for registration_id in dict.fromkeys(re.findall(rf"/services/mine/({_UUID})/", mine.body)):
            page = self._checked(client.get(f"/en/services/mine/{registration_id}/"))
            if f"/services/mine/{registration_id}/cancel/" in page.body:
                self._cancel(client, registration_id, page)

    def _cancel(self, client: WebClient, registration_id: str, page: Response | None = None) -> None:
        attempt = Attempt("cancellation", self.index, len(self.attempts))
        self.attempts.append(attempt)
        page = page or self._checked(client.get(f"/en/services/mine/{registration_id}/"))
        action = f"/en/services/mine/{registration_id}/cancel/"
        if self._send(client, attempt, action, client.form(page, action)):
            attempt.object_id = registration_id

    def _request(self, client: WebClient, attempt: Attempt) -> None:
        action = "/en/me/requests/new/"
        page = self._checked(client.get(action))
        values = {"details": f"write {self.index}-{attempt.number}"}
        location = self._send(client, attempt, action, client.form(page, action, values))
        if found := re.search(rf"/me/requests/({_UUID})/", location):
            attempt.object_id = found[1]

    def _consent(self, client: WebClient, attempt: Attempt) -> None:
        page = self._checked(client.get("/en/consents/"))
        withdraw = "/en/consents/withdraw/"
        if f'action="{withdraw}"' in page.body:
            fields = client.form(page, withdraw)
            location = self._send(client, attempt, withdraw, fields)
        else:
            grant = "/en/consents/grant/"
            fields = client.form(page, grant)
            chosen = dict(fields)
            prefix = f"{chosen['agency']}-{chosen['purpose']}"
            values = {f"{prefix}-age_group": "adult", f"{prefix}-email": f"{self.username}@example.org"}
            location = self._send(client, attempt, grant, client.form(page, grant, values))
        if location:
            attempt.object_id = location


def unfaithful_writes(database_url: str, people: list[Citizen]) -> list[str]:
    """Every way the database differs from what the server acknowledged: an acknowledged write
    missing, a stored row without its audit entry or half-written. Empty when faithful."""
    problems: list[str] = []
    with psycopg.connect(database_url) as database:
        registrations: dict[str, str] = dict(
            database.execute("SELECT id::text, status FROM services_registration").fetchall()
        )
        (half_written,) = database.execute(
            "SELECT count(*) FROM services_registration WHERE name IS NULL OR national_id IS NULL"
        ).fetchone() or (0,)
        requests = {row[0] for row in database.execute("SELECT id::text FROM rights_rightsrequest")}
        audited = set(database.execute("SELECT action, object_id FROM audit_auditentry").fetchall())
        consent_events: dict[str, int] = dict(
            database.execute(
                "SELECT u.username, count(e.id) FROM accounts_user u JOIN consent_consent c ON c.subject_id = "
                "u.subject_id JOIN consent_consentevent e ON e.consent_id = c.id GROUP BY u.username"
            ).fetchall()
        )
        consent_audits: dict[str, int] = dict(
            database.execute(
                "SELECT u.username, count(a.id) FROM accounts_user u JOIN audit_auditentry a ON "
                "a.subject_id = u.subject_id AND a.action LIKE 'consent.%' GROUP BY u.username"
            ).fetchall()
        )
    if half_written:
        problems.append(f"{half_written} registrations stored without their values")
    for attempt in (attempt for person in people for attempt in person.attempts if attempt.acknowledged):
        if attempt.kind == "registration" and attempt.object_id not in registrations:
            problems.append(f"acknowledged registration {attempt.object_id} is missing")
        if attempt.kind == "cancellation" and registrations.get(attempt.object_id) != "cancelled":
            problems.append(f"acknowledged cancellation of {attempt.object_id} is missing")
        if attempt.kind == "request" and attempt.object_id not in requests:
            problems.append(f"acknowledged request {attempt.object_id} is missing")
    # Whatever is stored, acknowledged or not (an answer lost on the way), came with its audit entry.
    for registration_id, status in registrations.items():
        if ("services.registered", registration_id) not in audited:
            problems.append(f"registration {registration_id} has no audit entry")
        if status == "cancelled" and ("services.cancelled", registration_id) not in audited:
            problems.append(f"cancellation of {registration_id} has no audit entry")
    problems += [f"request {id_} has no audit entry" for id_ in requests if ("rights.request.file", id_) not in audited]
    for person in people:
        consents = [attempt for attempt in person.attempts if attempt.kind == "consent"]
        stored = consent_events.get(person.username, 0)
        audited_consents = consent_audits.get(person.username, 0)
        if audited_consents != stored:
            problems.append(f"{person.username}: {stored} consent events, {audited_consents} audited")
        if not sum(1 for attempt in consents if attempt.acknowledged) <= stored <= len(consents):
            problems.append(f"{person.username}: {stored} consent events stored for {len(consents)} tried")
    return problems
