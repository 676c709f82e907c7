"""What the access log's tests share: a spool directory of their own, records to ingest, staff personas."""

import datetime
import shutil
import tempfile
import time
from pathlib import Path

from django.test import override_settings

from raksa.accesslog import spool
from raksa.accesslog.ingest import ingest_spool
from raksa.accesslog.models import AccessRecord, DayClient
from raksa.accounts.models import User
from raksa.core import demo
from raksa.organisations.models import StaffMembership
from raksa.subjects.models import Subject

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.0 Mobile/15E148 Safari/604.1"
)


class SpoolDirectory:
    """A fresh spool directory for one test, set as RAKSA_ACCESSLOG_SPOOL_DIR while it lives."""

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="raksa-spool-"))
        self._override = override_settings(RAKSA_ACCESSLOG_SPOOL_DIR=self.path)

    def __enter__(self) -> "SpoolDirectory":
        self._override.enable()
        return self

    def __exit__(self, *exc: object) -> None:
        spool.writer().close()
        self._override.disable()
        shutil.rmtree(self.path, ignore_errors=True)

    def lines(self) -> list[list[str]]:
        return [line.split("\t") for path in spool.spool_files(self.path) for line in path.read_text().splitlines()]

    def raw(self) -> bytes:
        return b"".join(path.read_bytes() for path in spool.spool_files(self.path))


def at(moment: datetime.datetime) -> str:
    return str(int(moment.timestamp() * 1000))


def record(
    *,
    when: datetime.datetime,
    ip: str = "203.0.113.7",
    agent: str = CHROME,
    path: str = "/th/",
    status: int = 200,
    referrer: str = "",
    subject: str = "",
) -> str:
    """One spool line's fields (without the sequence), as the middleware writes them."""
    return "\t".join(
        [at(when), "1500", "GET", str(status), "2048", ip, "raksa.example", path, referrer, agent, subject, ""]
    )


def spool_and_ingest(directory: Path, lines: list[str]) -> int:
    writer = spool.SpoolWriter(directory)
    for line in lines:
        writer.write(line)
    writer.close()
    return ingest_spool(directory=directory).records


def staff(username: str, role: str) -> User:
    agency = demo.load_organisations()[0]
    user = User.objects.create_user(username, "correct horse battery", subject=Subject.objects.create())
    StaffMembership.objects.create(user=user, agency=agency, role=role)
    return user


def now_ms() -> int:
    return int(time.time() * 1000)


def client_of(stored: AccessRecord) -> DayClient:
    """The record's client of its day: its sealed IP and browser string."""
    return DayClient.objects.get(day=stored.day, id=stored.client_id)


def paths() -> list[str]:
    return list(AccessRecord.objects.order_by("time", "id").values_list("path", flat=True))
