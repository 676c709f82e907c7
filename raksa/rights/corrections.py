"""What the person may correct themselves (R3, PDPA s36), with what is held now: for My data's
corrections page and the application alike."""

import uuid
from dataclasses import dataclass

from raksa.registry import registry
from raksa.rights.actions import self_correctable_fields
from raksa.vault.openers import Opener


@dataclass(frozen=True)
class Correctable:
    store: str
    row_id: str
    field: str
    category: str
    label: str
    current: str

    def as_form_value(self) -> tuple[str, str, str, str, str]:
        """The tuple SelfCorrectionForm takes."""
        return (self.store, self.row_id, self.field, self.label, self.current)


def correctables(subject_id: uuid.UUID) -> list[Correctable]:
    fields = self_correctable_fields(subject_id)
    opener = Opener.for_subject(subject_id)
    found = []
    for store, row_id, field in fields:
        declaration = registry.declaration(store, field)
        row = declaration.model_class()._default_manager.get(pk=row_id)
        current = opener.open(getattr(row, field))
        found.append(
            Correctable(
                store=store,
                row_id=row_id,
                field=field,
                category=declaration.category.code,
                label=f"{declaration.category.label} — {row._meta.verbose_name}",
                current=current if isinstance(current, str) else "",
            )
        )
    return found


def correctable_values(subject_id: uuid.UUID) -> list[tuple[str, str, str, str, str]]:
    """(store, row ID, field, label, current value) of what the person may correct themselves."""
    return [item.as_form_value() for item in correctables(subject_id)]
