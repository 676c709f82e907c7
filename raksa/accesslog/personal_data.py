"""What a visit leaves behind (C2), kept for statistics (P1) and investigation (P2) for the legal minimum."""

import uuid

from django.db.models import QuerySet

from raksa.accesslog.models import AccessRecord, DayClient
from raksa.registry import (
    ACCESS_TIME,
    BROWSER,
    DOMAIN_NAME,
    INCIDENT_INVESTIGATION,
    IP_ADDRESS,
    LEGAL_OBLIGATION,
    PAGES_VISITED,
    REFERRER,
    USAGE_STATISTICS,
    declare,
)
from raksa.rights.finders import register_finder

_RECORD = "accesslog.AccessRecord"
# A record's client of the day: the IP and browser string it came with, stored once per day.
_CLIENT = "accesslog.DayClient"
_PURPOSES = [USAGE_STATISTICS, INCIDENT_INVESTIGATION]

declare(_CLIENT, "ip_sealed", category=IP_ADDRESS, purposes=_PURPOSES, legal_basis=LEGAL_OBLIGATION)
declare(_CLIENT, "user_agent_sealed", category=BROWSER, purposes=_PURPOSES, legal_basis=LEGAL_OBLIGATION)
declare(
    _CLIENT,
    "ip_index",
    category=IP_ADDRESS,
    purposes=[INCIDENT_INVESTIGATION],
    legal_basis=LEGAL_OBLIGATION,
    plaintext="a keyed HMAC under the day's key for the investigator's search by IP; meaningless once the key goes",
)
declare(
    _CLIENT,
    "digest",
    category=IP_ADDRESS,
    purposes=_PURPOSES,
    legal_basis=LEGAL_OBLIGATION,
    plaintext="a keyed HMAC of the IP and browser string under the day's key, by which the ingester finds the "
    "day's client again; meaningless once the key goes",
)
declare(
    _RECORD,
    "time",
    category=ACCESS_TIME,
    purposes=_PURPOSES,
    legal_basis=LEGAL_OBLIGATION,
    plaintext="searched and rolled up by time range; alone it names nobody",
)
declare(
    _RECORD,
    "path",
    category=PAGES_VISITED,
    purposes=_PURPOSES,
    legal_basis=LEGAL_OBLIGATION,
    plaintext="searched by prefix; secrets are cut and query strings allow-listed before it is written",
)
declare(
    _RECORD,
    "referrer",
    category=REFERRER,
    purposes=_PURPOSES,
    legal_basis=LEGAL_OBLIGATION,
    plaintext="another site's origin only, or one of our own cleaned pages",
)
for _field in ("browser_family", "browser_version"):
    declare(
        _CLIENT,
        _field,
        category=BROWSER,
        purposes=_PURPOSES,
        legal_basis=LEGAL_OBLIGATION,
        plaintext="the parsed family and major version that statistics count; the full string stays sealed",
    )
declare(
    "accesslog.ReverseName",
    "name_sealed",
    category=DOMAIN_NAME,
    purposes=[INCIDENT_INVESTIGATION],
    legal_basis=LEGAL_OBLIGATION,
)
declare(
    "accesslog.ReverseName",
    "ip_index",
    category=IP_ADDRESS,
    purposes=[INCIDENT_INVESTIGATION],
    legal_basis=LEGAL_OBLIGATION,
    plaintext="the same keyed per-day index as the record's, to join a name to its records",
)


def _clients_of(subject_id: uuid.UUID) -> QuerySet:
    """The clients of a person's signed-in records (their export shows them beside the records). Read
    by day and ID, as the clients' key is on PostgreSQL, so each day's partition is looked up by index."""
    pairs = AccessRecord.objects.filter(subject_id=subject_id).values_list("day", "client_id").distinct()
    days, ids = set(), set()
    for day, client_id in pairs:
        days.add(day)
        ids.add(client_id)
    return DayClient.objects.filter(day__in=days, id__in=ids)


# No eraser: the clients are kept, as the records are, for the legal minimum (CCA s26).
register_finder(_CLIENT, _clients_of)
