"""How to find one subject's rows in each store the registry knows.

A store whose model points to its subject (the vault's `vault_subject_field`, or a column
`subject_id`: a foreign key named `subject` or a plain UUID) needs nothing. Any other store
registers a finder here (a function from a subject ID to a queryset, and optionally an eraser for
its plaintext columns), or says why no row of it can be linked to a person. `unresolved_stores()`
names the stores that do neither; the rights tests fail while any exists, so a new store is covered
(or deliberately excluded) without new code in this app.
"""

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, connections, router
from django.db.models import Field, Model, QuerySet
from django.db.models.manager import BaseManager

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


def counts(subject_id: uuid.UUID, models: Iterable[str]) -> dict[str, int]:
    """How many rows each of these stores holds about the subject, counted in one query per database,
    for the stores found by their subject column alone (those `finder_for` makes a finder for, whose
    manager filters nothing); the others are left out. The My-data page skips the stores that hold
    nothing without a query of their own (most of a person's stores), and has the totals of the rest."""
    by_alias: dict[str, list[tuple[str, type[Model], Field, str]]] = {}
    for model in models:
        if model_label(model) in _REGISTERED:
            continue
        model_class = apps.get_model(model)
        name = _subject_field(model_class)
        if name is None or type(model_class._default_manager).get_queryset is not BaseManager.get_queryset:
            continue
        field = model_class._meta.get_field(name)
        if isinstance(field, Field) and field.column:
            alias = router.db_for_read(model_class) or DEFAULT_DB_ALIAS
            by_alias.setdefault(alias, []).append((model, model_class, field, field.column))
    found: dict[str, int] = {}
    for alias, stores in by_alias.items():
        connection = connections[alias]
        quote = connection.ops.quote_name
        parts, parameters = [], []
        for number, (_model, model_class, field, column) in enumerate(stores):
            parts.append(
                f"SELECT {number}, COUNT(*) FROM {quote(model_class._meta.db_table)} "  # noqa: S608  # nosec B608
                f"WHERE {quote(column)} = %s"
            )
            parameters.append(field.get_db_prep_value(subject_id, connection))
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), parameters)
            found |= {stores[number][0]: count for number, count in cursor.fetchall()}
    return found


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
