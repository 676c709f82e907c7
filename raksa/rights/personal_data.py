"""The personal data a rights request holds: what the person wrote about their request."""

from raksa.registry import (
    ACCOUNT,
    EMAIL,
    ERASURE_NOTICE,
    LEGAL_OBLIGATION,
    MESSAGE,
    RIGHTS_REQUESTS,
    declare,
    not_personal,
)

declare("rights.RightsRequest", "details", category=MESSAGE, purposes=[RIGHTS_REQUESTS], legal_basis=LEGAL_OBLIGATION)
declare(
    "rights.Export",
    "content",
    category=MESSAGE,
    purposes=[RIGHTS_REQUESTS],
    legal_basis=LEGAL_OBLIGATION,
    # A copy of the person's own data: emptied once downloaded or expired, and shredded with the account.
    retention=ACCOUNT,
)
# Only for a person without an account (a walk-in or paper request): where the answer goes.
declare(
    "rights.RightsRequest", "contact_email", category=EMAIL, purposes=[RIGHTS_REQUESTS], legal_basis=LEGAL_OBLIGATION
)
not_personal(
    "rights.RightsRequest", "unsent_mail", reason="the kind of a step's message (a code), never an address or a text"
)
# Only between erasure and the message confirming it: its class is the one erasure keeps (raksa.rights.notices).
declare(
    "rights.ErasureNotice",
    "email",
    category=EMAIL,
    purposes=[RIGHTS_REQUESTS],
    legal_basis=LEGAL_OBLIGATION,
    retention=ERASURE_NOTICE,
)
