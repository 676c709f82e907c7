"""Correcting my own contact details (R3, PDPA s36) as on My data's corrections page: the same form,
the same action, each change audited; anything else is corrected through a rectification request."""

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router

from raksa.api import problems
from raksa.api.auth import PERSON, account
from raksa.api.problems import Problem
from raksa.api.schemas import CorrectableList, CorrectableOut, CorrectionsIn
from raksa.rights import actions
from raksa.rights.corrections import Correctable, correctables
from raksa.rights.forms import SelfCorrectionForm
from raksa.subjects.models import Subject

router = Router(tags=["my data and my rights"])


def _subject(request: HttpRequest) -> Subject:
    subject = account(request).subject
    if subject is None:
        raise Problem("not-found")
    return subject


def _listed(items: list[Correctable]) -> CorrectableList:
    return CorrectableList(
        items=[
            CorrectableOut(
                store=item.store,
                row=item.row_id,
                field=item.field,
                category=item.category,
                label=item.label,
                value=item.current,
            )
            for item in items
        ]
    )


@router.get(
    "/me/corrections",
    response=CorrectableList,
    auth=PERSON,
    summary="What I may correct myself, with what is held now",
    description="Addresses, phone numbers, workplaces and interests held about me.",
)
def correctable(request: HttpRequest) -> CorrectableList:
    return _listed(correctables(_subject(request).id))


@router.patch(
    "/me/corrections",
    response=CorrectableList,
    auth=PERSON,
    summary="Correct some of them",
    description="Each change names a value listed by GET (`store`, `row`, `field`). All or nothing; each change "
    "is audited (field names only). Anything not listed is corrected through a rectification request.",
)
def correct(request: HttpRequest, payload: CorrectionsIn) -> CorrectableList:
    subject = _subject(request)
    items = correctables(subject.id)
    names = {(item.store, item.row_id, item.field): f"value_{number}" for number, item in enumerate(items)}
    data = {f"value_{number}": item.current for number, item in enumerate(items)}
    unknown: dict[str, list[str]] = {}
    pointers: dict[str, str] = {}  # form field -> where the client sent it
    for position, change in enumerate(payload.changes):
        name = names.get((change.store, change.row, change.field))
        if name is None:
            unknown[f"changes/{position}"] = [_("This cannot be corrected here: file a rectification request.")]
        else:
            data[name] = change.value
            pointers[name] = f"changes/{position}/value"
    if unknown:
        raise problems.invalid(unknown)
    form = SelfCorrectionForm(data, values=[item.as_form_value() for item in items])
    if not form.is_valid():
        raise problems.invalid(
            {pointers.get(name, name): [str(m) for m in messages] for name, messages in form.errors.items()}
        )
    actions.correct_own_data(subject=subject, changes=form.changes(), actor=account(request))
    return _listed(correctables(subject.id))
