"""A registration's values: one encrypted column per category a service may ask for.

The declaration of each column is the widest use allowed; each service narrows it in its own
`ServiceField` rows (purpose, legal basis, required) and its retention after the case closes,
which the notice at collection shows and the retention engine enforces (raksa/services/retention.py).
"""

from raksa.registry import (
    CONTACT,
    EXPLICIT_CONSENT,
    MESSAGE,
    PUBLIC_TASK,
    SERVICE_DELIVERY,
    SERVICE_RECORD,
    Purpose,
    declare,
)
from raksa.services.columns import COLLECTABLE, CONTACT_COLUMNS, SENSITIVE_SERVICE_DELIVERY


def _purposes(code: str, sensitive: bool) -> list[Purpose]:
    if sensitive:
        return [SENSITIVE_SERVICE_DELIVERY]
    return [SERVICE_DELIVERY, CONTACT] if code in CONTACT_COLUMNS else [SERVICE_DELIVERY]


for _category in COLLECTABLE:
    declare(
        "services.Registration",
        _category.code,
        category=_category,
        purposes=_purposes(_category.code, _category.sensitive),
        legal_basis=EXPLICIT_CONSENT if _category.sensitive else PUBLIC_TASK,
        retention=SERVICE_RECORD,
        indexed=_category.index is not None,
    )

declare(
    "services.CaseNote",
    "text",
    category=MESSAGE,
    purposes=[SERVICE_DELIVERY],
    legal_basis=PUBLIC_TASK,
    retention=SERVICE_RECORD,
)
