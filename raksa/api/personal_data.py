"""What the API itself stores: only the rate limits' counts, keyed by a hash of the client."""

from raksa.registry import ACCOUNT_OPERATION, IP_ADDRESS, PUBLIC_TASK, declare
from raksa.rights.finders import register_unlinked

declare(
    "api.RequestCount",
    "bucket",
    category=IP_ADDRESS,
    purposes=[ACCOUNT_OPERATION],
    legal_basis=PUBLIC_TASK,
    plaintext="a keyed hash (HMAC-SHA-256) of the client's address, or of its account once logged in, "
    "matched exactly to count requests per minute; the address is never stored, and the API's first "
    "request in a later minute deletes the row",
)
register_unlinked(
    "api.RequestCount",
    reason="a keyed hash of an address or account, kept for minutes and linked to no subject",
)
