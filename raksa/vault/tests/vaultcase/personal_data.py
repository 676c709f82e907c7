from raksa.registry import (
    CASE_FILE,
    EMAIL,
    INQUIRY,
    MESSAGE,
    NAME,
    NATIONAL_ID,
    OFFICIAL_INFORMATION_ACT,
    PHONE,
    PUBLIC_TASK,
    SERVICE_DELIVERY,
    declare,
)

for _field, _category in (("name", NAME), ("email", EMAIL), ("phone", PHONE)):
    declare(
        "vaultcase.Dossier",
        _field,
        category=_category,
        purposes=[SERVICE_DELIVERY],
        legal_basis=PUBLIC_TASK,
        indexed=_category.index is not None,
    )
declare(
    "vaultcase.Dossier",
    "national_id",
    category=NATIONAL_ID,
    purposes=[SERVICE_DELIVERY],
    legal_basis=OFFICIAL_INFORMATION_ACT,
    retention=CASE_FILE,
    indexed=True,
)
declare(
    "vaultcase.Dossier",
    "note",
    category=MESSAGE,
    purposes=[SERVICE_DELIVERY],
    legal_basis=PUBLIC_TASK,
    retention=INQUIRY,
)
