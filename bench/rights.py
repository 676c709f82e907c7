"""The rights figures (issue 7): one person's full JSON export and their erasure, among many people
and among 1% as many, in the same run.

The crowd is bulk-loaded (subjects, accounts, sealed account e-mail addresses and rights requests
under their own data keys are made for the measured people only; the crowd's rows are plaintext
accounts and subjects, which is what the stores' subject look-ups must skip by index). Everything
the bench makes is removed at the end.
"""

import uuid

from django.contrib.auth.hashers import make_password
from django.db import transaction

from bench.harness import Figure, Timing, measure
from raksa.accounts.addresses import store as store_email
from raksa.accounts.models import User
from raksa.organisations.models import Controller
from raksa.rights import actions
from raksa.rights.export import assemble
from raksa.rights.models import RequestType, RightsRequest
from raksa.subjects.models import Subject
from raksa.vault.keys import session
from raksa.vault.openers import Opener

_PREFIX = "bench-rights-"
_BATCH = 5000
_MEASURED_ACCOUNTS: list[uuid.UUID] = []


def _operator() -> Controller:
    controller, _created = Controller.objects.get_or_create(
        is_platform_operator=True, defaults={"slug": "bench-operator", "name_th": "ผู้ให้บริการ", "name_en": "Operator"}
    )
    return controller


def _crowd(count: int) -> None:
    """Bulk-loads `count` people with accounts: the rows a subject look-up must not scan."""
    password = make_password(None)
    for start in range(0, count, _BATCH):
        size = min(_BATCH, count - start)
        with transaction.atomic():
            subjects = Subject.objects.bulk_create([Subject() for _ in range(size)])
            User.objects.bulk_create(
                [
                    User(username=f"{_PREFIX}{uuid.uuid4().hex}", password=password, subject=subject)
                    for subject in subjects
                ]
            )


def _person(number: int) -> Subject:
    """A measured person: an account, a sealed e-mail address and three requests with details."""
    with transaction.atomic():
        subject = Subject.objects.create()
        user = User.objects.create_user(f"{_PREFIX}measured-{number}-{uuid.uuid4().hex[:8]}", None, subject=subject)
        store_email(user, f"person{number}@example.org")
    _MEASURED_ACCOUNTS.append(user.pk)
    for kind in (RequestType.ACCESS, RequestType.RECTIFICATION, RequestType.OBJECTION):
        actions.file_request(subject=subject, type=kind, details=f"details of request {kind} {number}")
    return subject


def _cleanup(measured: list[uuid.UUID]) -> None:
    """Removes the crowd and the measured people (erased accounts no longer name their subject)."""
    crowd = list(User.objects.filter(username__startswith=_PREFIX).values_list("subject_id", flat=True))
    User.objects.filter(username__startswith=_PREFIX).delete()
    User.objects.filter(pk__in=_MEASURED_ACCOUNTS).delete()
    _MEASURED_ACCOUNTS.clear()
    RightsRequest.objects.filter(subject_id__in=measured).delete()
    for start in range(0, len(crowd), _BATCH):
        Subject.objects.filter(pk__in=crowd[start : start + _BATCH]).delete()


def _figures(size: int, samples: int, measured: list[uuid.UUID]) -> tuple[Timing, Timing]:
    _crowd(size)
    people = [_person(number) for number in range(samples * 2 + 2)]
    measured.extend(person.id for person in people)
    target = people.pop()

    def export() -> None:
        with session():
            assemble(target.id, opener=Opener.for_system("export"))

    def erase() -> None:
        actions.erase_person(subject=people.pop())

    return measure(export, repeat=samples, warmup=2), measure(erase, repeat=samples, warmup=1)


def _figure(name: str, many: Timing, few: Timing, size: int) -> list[Figure]:
    return [
        Figure(
            name=f"{name} p95 among {size:,} people",
            measured=many.p95 * 1000,
            goal=100,
            unit="ms",
            detail=f"median {many.median * 1000:.1f} ms over {len(many.samples)} runs",
        ),
        Figure(
            name=f"{name} p95, {size:,} vs {size // 100:,} people",
            measured=many.p95 / few.p95,
            goal=2,
            unit="x",
            detail=f"{few.p95 * 1000:.1f} ms at {size // 100:,} people",
        ),
    ]


def run(*, small: bool) -> list[Figure]:
    size = 10_000 if small else 100_000
    samples = 20
    _operator()
    timings: dict[int, tuple[Timing, Timing]] = {}
    for crowd in (size // 100, size):
        measured: list[uuid.UUID] = []
        try:
            timings[crowd] = _figures(crowd, samples, measured)
        finally:
            _cleanup(measured)
    many, few = timings[size], timings[size // 100]
    return [
        *_figure("one person's JSON export", many[0], few[0], size),
        *_figure("one person's erasure", many[1], few[1], size),
    ]
