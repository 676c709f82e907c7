from django.db import transaction

from raksa.subjects.models import Subject
from raksa.vault.actions import Shredded, shred


@transaction.atomic
def create_subject() -> Subject:
    """A new data subject: an opaque ID that personal data will point to."""
    return Subject.objects.create()


def erase_subject(*, subject: Subject, controller_id: int | None = None, retention: str | None = None) -> Shredded:
    """Erases a person's data by destroying their keys and blind indexes (all, or one controller's or
    one retention class's). The Subject row stays: the audit log names it, and it now links to nobody."""
    return shred(subject_id=subject.id, controller_id=controller_id, retention=retention)
