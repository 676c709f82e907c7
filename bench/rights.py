"""The rights figures (issue 7): one person's full JSON export and their erasure, among the bench data
set's people and among 100 times fewer, in the same run.

The full run measures among 1,000,000 people (with their 10,000,000 access-log records and 1,000,000
audit entries) against the 10,000-person set; `--small` among 10,000 against 100. An export is of a
citizen of the data set, a different one each time, spread over the whole set: their account, sealed
e-mail, registrations, recorded visits and audit entries as the build made them (reads only). An
erasure is of a person made in the data set through the apps' own actions (an account, a sealed e-mail
address, three requests with details), so the set's citizens stay whole; the erased ones stay erased.
"""

import tempfile
import uuid
from typing import TYPE_CHECKING

from bench import dataset
from bench.harness import Figure, Timing, run_child

if TYPE_CHECKING:
    from raksa.subjects.models import Subject

SAMPLES = 20


def run(*, small: bool) -> list[Figure]:
    scale = "small" if small else "full"
    timings = {}
    for measured in (scale, dataset.baseline_of(scale)):
        data = dataset.ensure(measured)
        with tempfile.TemporaryDirectory(prefix="raksa-bench-rights-") as scratch:
            # --small is CI's smoke run (its timings are not judged): a few samples show it runs.
            samples = 5 if small else SAMPLES
            citizens = dataset.counts(measured)["citizens"]
            found = run_child("bench.rights:measure", [str(samples), str(citizens)], data.environment(scratch))
        timings[measured] = (Timing(tuple(found["export"])), Timing(tuple(found["erase"])))
    people = {name: dataset.counts(name)["citizens"] for name in timings}
    many, few = timings[scale], timings[dataset.baseline_of(scale)]
    return [
        *_figure("one person's JSON export", many[0], few[0], people[scale], people[dataset.baseline_of(scale)]),
        *_figure("one person's erasure", many[1], few[1], people[scale], people[dataset.baseline_of(scale)]),
    ]


def _figure(name: str, many: Timing, few: Timing, size: int, fewer: int) -> list[Figure]:
    return [
        Figure(
            name=f"{name} p95 among {size:,} people",
            measured=many.p95 * 1000,
            goal=100,
            unit="ms",
            detail=f"median {many.median * 1000:.1f} ms over {len(many.samples)} runs",
        ),
        Figure(
            name=f"{name} p95, {size:,} vs {fewer:,} people",
            measured=many.p95 / few.p95,
            goal=2,
            unit="x",
            detail=f"{few.p95 * 1000:.1f} ms among {fewer:,} people",
        ),
    ]


# The child process: in one data set's databases --------------------------------------------------
def _person(number: int) -> "Subject":
    """A measured person: an account, a sealed e-mail address and three requests with details."""
    from django.db import transaction

    from raksa.accounts.addresses import store as store_email
    from raksa.accounts.models import User
    from raksa.rights import actions
    from raksa.rights.models import RequestType
    from raksa.subjects.models import Subject

    with transaction.atomic():
        subject = Subject.objects.create()
        user = User.objects.create_user(f"bench-rights-{uuid.uuid4().hex}", None, subject=subject)
        # A new address each run: addresses are unique, and the data set keeps the people of earlier runs.
        store_email(user, f"measured{number}-{uuid.uuid4().hex}@example.org")
    for kind in (RequestType.ACCESS, RequestType.RECTIFICATION, RequestType.OBJECTION):
        actions.file_request(subject=subject, type=kind, details=f"details of request {kind} {number}")
    return subject


def measure(samples: str, citizens: str) -> dict[str, tuple[float, ...]]:
    """Export timings of the data set's citizens and erasure timings of new people in the data set this
    process was started on."""
    from bench.harness import measure as timing
    from raksa.rights import actions
    from raksa.rights.export import assemble
    from raksa.vault.keys import session
    from raksa.vault.openers import Opener

    count = int(samples)
    people = [_person(number) for number in range(count + 1)]
    # Citizens spread evenly over the set (the build numbers them from 0), one per timed or warm-up run.
    step = max(1, int(citizens) // (count + 2))
    exported = [dataset.subject_id(number * step) for number in range(count + 2)]

    def export() -> None:
        with session():
            assemble(exported.pop(), opener=Opener.for_system("export"))

    def erase() -> None:
        actions.erase_person(subject=people.pop())

    return {
        "export": timing(export, repeat=count, warmup=2).samples,
        "erase": timing(erase, repeat=count, warmup=1).samples,
    }
