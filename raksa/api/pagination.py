"""Cursor pagination: each page names where the next one starts, never an offset.

The cursor is the last item's sort key, signed (so it cannot be forged or moved to another list)
and opaque to the client. Rows added or removed between two pages shift nothing.
"""

import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from django.core import signing
from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import Field

from raksa.api import problems

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
_SALT = "raksa.api.cursor"


class PageQuery(Schema):
    cursor: str | None = Field(None, max_length=500, description="`next_cursor` of the previous page")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


def _plain(value: object) -> object:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _encode(scope: str, key: Sequence[object]) -> str:
    return signing.dumps([scope, [_plain(value) for value in key]], salt=_SALT)


def _decode(scope: str, cursor: str | None) -> list[Any] | None:
    if not cursor:
        return None
    try:
        found_scope, key = signing.loads(cursor, salt=_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        found_scope, key = None, None
    if found_scope != scope or not isinstance(key, list):
        raise problems.invalid({"cursor": [_("This cursor is not valid here. Start again without one.")]})
    return key


def _after(order: Sequence[str], key: Sequence[object]) -> Q:
    """Rows after `key` in this ordering (each name a field, "-" for descending)."""
    after = Q()
    equal: dict[str, object] = {}
    for field, value in zip(order, key, strict=True):
        name = field.removeprefix("-")
        after |= Q(**equal, **{f"{name}__{'lt' if field.startswith('-') else 'gt'}": value})
        equal[name] = value
    return after


def page_of_queryset[M: Model](
    queryset: QuerySet[M], *, scope: str, order: Sequence[str], page: PageQuery
) -> tuple[list[M], str | None]:
    key = _decode(scope, page.cursor)
    rows = queryset.order_by(*order)
    if key is not None:
        if len(key) != len(order):
            raise problems.invalid({"cursor": [_("This cursor is not valid here. Start again without one.")]})
        rows = rows.filter(_after(order, key))
    found = list(rows[: page.limit + 1])
    items = found[: page.limit]
    more = len(found) > page.limit
    last = items[-1] if items else None
    next_cursor = _encode(scope, [getattr(last, field.removeprefix("-")) for field in order]) if more and last else None
    return items, next_cursor


def page_of_list[T](
    items: Sequence[T],
    *,
    scope: str,
    key: Callable[[T], tuple[str, ...]],
    page: PageQuery,
    descending: bool = False,
) -> tuple[list[T], str | None]:
    """The same over a list already in memory, ordered by `key` (a tuple of strings)."""
    start = _decode(scope, page.cursor)
    ordered = sorted(items, key=key, reverse=descending)
    if start is not None:
        ordered = [item for item in ordered if (list(key(item)) < start if descending else list(key(item)) > start)]
    chosen = ordered[: page.limit]
    more = len(ordered) > page.limit
    return chosen, (_encode(scope, key(chosen[-1])) if more and chosen else None)
