"""What the API itself stores: only the rate limits' recent request times, keyed by a hash of the client."""

from raksa.registry import ACCOUNT_OPERATION, IP_ADDRESS, PUBLIC_TASK, declare
from raksa.rights.finders import register_unlinked

declare(
    "api.RecentRequests",
    "bucket",
    category=IP_ADDRESS,
    purposes=[ACCOUNT_OPERATION],
    legal_basis=PUBLIC_TASK,
    plaintext="a keyed hash (HMAC-SHA-256) of the client's address, or of its account once logged in, "
    "matched exactly to count its requests of the last minute; the address is never stored, and the "
    "row is deleted once the client has been idle for a whole minute",
)
register_unlinked(
    "api.RecentRequests",
    reason="a keyed hash of an address or account, kept for a minute and linked to no subject",
)
