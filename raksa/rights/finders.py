"""How to find one subject's rows in each store the registry knows.

A store whose model points to its subject (the vault's `vault_subject_field`, or a column
`subject_id`: a foreign key named `subject` or a plain UUID) needs nothing. Any other store
registers a finder here (a function from a subject ID to a queryset, and optionally an eraser for
its plaintext columns), or says why no row of it can be linked to a person. `unresolved_stores()`
names the stores that do neither; the rights tests fail while any exists, so a new store is covered
(or deliberately excluded) without new code in this app.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.db.models import Model, QuerySet

from raksa.registry import model_label, registry

type Finder = Callable[[uuid.UUID], QuerySet]
type Eraser = Callable[[QuerySet], int]


@dataclass(frozen=True)
class Registration:
    finder: Finder | None
    eraser: Eraser | None
    unlinked_reason: str = ""


_REGISTERED: dict[str, Registration] = {}


def register_finder(model: str, finder: Finder, *, eraser: Eraser | None = None) -> None:
    """`finder(subject_id)` returns the store's rows about that subject; `eraser(rows)` empties them."""
    _REGISTERED[model_label(model)] = Registration(finder=finder, eraser=eraser)


def register_unlinked(model: str, *, reason: str) -> None:
    """This store holds personal data that no row links to a subject (a keyed hash, say)."""
    _REGISTERED[model_label(model)] = Registration(finder=None, eraser=None, unlinked_reason=reason)


def _subject_field(model: type[Model]) -> str | None:
    declared = getattr(model, "vault_subject_field", None)
    if declared:
        return str(declared)
    for field in model._meta.concrete_fields:
        if field.attname == "subject_id":
            return "subject_id"
    return None


def finder_for(model: str) -> Finder | None:
    registration = _REGISTERED.get(model_label(model))
    if registration is not None:
        return registration.finder
    model_class = apps.get_model(model)
    field = _subject_field(model_class)
    if field is None:
        return None
    return lambda subject_id: model_class._default_manager.filter(**{field: subject_id})


def eraser_for(model: str) -> Eraser | None:
    registration = _REGISTERED.get(model_label(model))
    return None if registration is None else registration.eraser


def unlinked_reason(model: str) -> str:
    registration = _REGISTERED.get(model_label(model))
    return "" if registration is None else registration.unlinked_reason


def unresolved_stores() -> list[str]:
    """Stores in the registry with neither a way to find a subject's rows nor a reason why not."""
    return [
        store.model
        for store in registry.stores()
        if finder_for(store.model) is None and not unlinked_reason(store.model)
    ]


# Stores of apps that predate this protocol and do not point to their subject directly.
def _accounts_user(subject_id: uuid.UUID) -> QuerySet:
    return apps.get_model("accounts.User")._default_manager.filter(subject_id=subject_id)


def _erase_accounts_user(rows: QuerySet) -> int:
    """The account cannot log in again, its user ID is freed, and it no longer names its subject."""
    count = 0
    for user in rows:
        user.username = f"erased-{uuid.uuid4().hex}"
        user.set_unusable_password()
        user.is_active = False
        user.subject = None
        user.save(update_fields=["username", "password", "is_active", "subject"])
        count += 1
    return count


def _accounts_sessions(subject_id: uuid.UUID) -> QuerySet:
    return apps.get_model("accounts.Session")._default_manager.filter(user__subject_id=subject_id)


def _accounts_app_tokens(subject_id: uuid.UUID) -> QuerySet:
    return apps.get_model("accounts.AppToken")._default_manager.filter(user__subject_id=subject_id)


def _delete(rows: QuerySet) -> int:
    deleted, _by_model = rows.delete()
    return deleted


register_finder("accounts.User", _accounts_user, eraser=_erase_accounts_user)
register_finder("accounts.Session", _accounts_sessions, eraser=_delete)
register_finder("accounts.AppToken", _accounts_app_tokens, eraser=_delete)
register_unlinked(
    "accesslog.ReverseName",
    reason="the reverse-DNS name of an address on one day, linked to no person; it goes with the day's key",
)
register_unlinked(
    "accounts.LoginThrottle",
    reason="a keyed hash of an address, kept at most a quiet day and linked to no account",
)
