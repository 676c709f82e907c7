"""What a visit leaves behind (C2), kept for statistics (P1) and investigation (P2) for the legal minimum."""

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

_RECORD = "accesslog.AccessRecord"
_PURPOSES = [USAGE_STATISTICS, INCIDENT_INVESTIGATION]

declare(_RECORD, "ip_sealed", category=IP_ADDRESS, purposes=_PURPOSES, legal_basis=LEGAL_OBLIGATION)
declare(_RECORD, "user_agent_sealed", category=BROWSER, purposes=_PURPOSES, legal_basis=LEGAL_OBLIGATION)
declare(
    _RECORD,
    "ip_index",
    category=IP_ADDRESS,
    purposes=[INCIDENT_INVESTIGATION],
    legal_basis=LEGAL_OBLIGATION,
    plaintext="a keyed HMAC under the day's key for the investigator's search by IP; meaningless once the key goes",
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
        _RECORD,
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
