"""Recipients a person can consent to disclose to, one purpose at a time (PDPA s19; D1 basis (a)).

The register of recipients belongs to another app (disclosures); it reports here, per agency, the
recipients a person may choose to consent to, with `register_source`. A consent to a recipient is a
`Consent` whose `recipient` is that recipient's stable key; it counts for that recipient only.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.utils.translation import get_language

from raksa.organisations.models import Agency


@dataclass(frozen=True)
class ConsentRecipient:
    key: str  # stable, and the same in every language: "disclosures.recipient:12"
    name_th: str
    name_en: str
    purposes: tuple[str, ...]
    categories: tuple[str, ...]  # registry category codes of what it would receive

    @property
    def name(self) -> str:
        return self.name_en if get_language() == "en" else self.name_th


type RecipientSource = Callable[[Agency], Iterable[ConsentRecipient]]
_sources: list[RecipientSource] = []


def register_source(source: RecipientSource) -> RecipientSource:
    if source not in _sources:
        _sources.append(source)
    return source


def recipients_for(agency: Agency) -> list[ConsentRecipient]:
    """Every recipient of the agency a person may consent to, in the order the sources give them."""
    return [recipient for source in _sources for recipient in source(agency)]


def offered(agency: Agency, key: str, purpose: str) -> ConsentRecipient | None:
    """The recipient, if a person may consent to disclosure to it for this purpose now."""
    return next((r for r in recipients_for(agency) if r.key == key and purpose in r.purposes), None)
