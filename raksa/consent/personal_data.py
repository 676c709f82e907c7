"""The personal data the consent app holds: subscription addresses and questions to the DPO."""

from raksa.registry import (
    CONSENT,
    CONTACT,
    EMAIL,
    INQUIRY,
    MESSAGE,
    NAME,
    NEWS_AND_PR,
    OPINION_SURVEYS,
    PUBLIC_TASK,
    RIGHTS_REQUESTS,
    SUBSCRIPTION,
    declare,
)

declare(
    "consent.Consent",
    "email",
    category=EMAIL,
    purposes=[NEWS_AND_PR, OPINION_SURVEYS],
    legal_basis=CONSENT,
    retention=SUBSCRIPTION,
)
for _field, _category in (("name", NAME), ("email", EMAIL)):
    declare(
        "consent.Inquiry",
        _field,
        category=_category,
        purposes=[RIGHTS_REQUESTS, CONTACT],
        legal_basis=PUBLIC_TASK,
        retention=INQUIRY,
        # The sender's address is found by exact match (blind index): the DPO finds whom a disclosure is about.
        indexed=_category is EMAIL,
    )
for _field in ("message", "answer"):
    declare(
        "consent.Inquiry",
        _field,
        category=MESSAGE,
        purposes=[RIGHTS_REQUESTS],
        legal_basis=PUBLIC_TASK,
        retention=INQUIRY,
    )
