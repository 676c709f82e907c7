"""The test model's declarations, made only while a vault test runs (see `declared_dossier`).

The module is not named personal_data.py on purpose: the registry would load it for every test, and
the policy, notices and exports that other apps' tests generate would list a model that is not part
of the site.
"""

from collections.abc import Iterator
from contextlib import contextmanager

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
    registry,
)


@contextmanager
def declared_dossier() -> Iterator[None]:
    with registry.overlay():
        for _field, _category in (("name", NAME), ("email", EMAIL), ("phone", PHONE)):
            registry.declare(
                "vaultcase.Dossier",
                _field,
                category=_category,
                purposes=[SERVICE_DELIVERY],
                legal_basis=PUBLIC_TASK,
                indexed=_category.index is not None,
            )
        registry.declare(
            "vaultcase.Dossier",
            "national_id",
            category=NATIONAL_ID,
            purposes=[SERVICE_DELIVERY],
            legal_basis=OFFICIAL_INFORMATION_ACT,
            retention=CASE_FILE,
            indexed=True,
        )
        registry.declare(
            "vaultcase.Dossier",
            "note",
            category=MESSAGE,
            purposes=[SERVICE_DELIVERY],
            legal_basis=PUBLIC_TASK,
            retention=INQUIRY,
        )
        yield
