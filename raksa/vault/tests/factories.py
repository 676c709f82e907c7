"""Rows for the vault's tests, saved through the vault as any feature would."""

from raksa.organisations.models import Controller
from raksa.subjects.actions import create_subject
from raksa.subjects.models import Subject
from raksa.vault.actions import save_sealed
from raksa.vault.tests.vaultcase.declarations import declared_dossier
from raksa.vault.tests.vaultcase.models import Dossier

# Values that must never appear in a dump of either database.
CANARIES = {
    "name": "Canary Somchai Rakdee ๗๓๑",
    "email": "Canary.Somchai+7f3a@Example.org",
    "phone": "081 234 5678",
    "national_id": "3-1006-00445-63-5",
    "note": "ขอรับรองสำเนาทะเบียนบ้าน canary-note-91c2",
}
# The same values as a blind index normalises them (never stored either: only their HMAC is).
NORMALISED_CANARIES = ("canary.somchai+7f3a@example.org", "+66812345678", "3100600445635")


class DossierTests:
    """Mixin for test cases that use vaultcase.Dossier: declares it for the class's duration."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.enterClassContext(declared_dossier())  # type: ignore[attr-defined]
        super().setUpClass()  # type: ignore[misc]


def controller(slug: str = "bma") -> Controller:
    return Controller.objects.create(slug=slug, name_th=f"ผู้ควบคุม {slug}", name_en=f"Controller {slug}")


def dossier(subject: Subject, owner: Controller, **values: str) -> Dossier:
    row = Dossier(subject=subject, controller=owner, **{"name": "Somsri", **values})
    save_sealed(row)
    return row


def person() -> Subject:
    return create_subject()
