"""One person's data, assembled from the registry: the My-data page and the JSON export (R1, s31).

The export's schema is documented in docs/rights.md; `SCHEMA_VERSION` changes whenever a key is
renamed or removed (adding keys keeps the version).
"""

import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from django.db.models import DateTimeField, F, Model, QuerySet
from django.utils import timezone

from raksa.audit.tracker import entries_about
from raksa.registry import registry
from raksa.rights import finders
from raksa.vault.fields import EncryptedField
from raksa.vault.keys import session
from raksa.vault.openers import Opener, load_keys
from raksa.vault.sealed import ERASED

SCHEMA = "raksa.rights.export"
SCHEMA_VERSION = 1


def _plain(value: object) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Model):
        return str(value.pk)
    return str(value)


def newest_first(rows: QuerySet) -> QuerySet:
    """A store's rows, newest first: by its first date-and-time column (the access log's `time`, a
    request's `received_at`, a note's `created_at`), then its key, so that pages never overlap."""
    times = [field.name for field in rows.model._meta.concrete_fields if isinstance(field, DateTimeField)]
    return rows.order_by(*([F(times[0]).desc(nulls_last=True)] if times else []), "-pk")


def assemble(
    subject_id: uuid.UUID,
    *,
    opener: Opener,
    progress: Callable[[int, int], None] | None = None,
    page_rows: int | None = None,
    pages: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """Every store's rows about this subject, each declared field with its category, purposes,
    legal basis and retention; then the audit entries about the subject.

    With `page_rows` (the My-data page), each store gives only one page of its rows, newest first:
    page `pages[store]` (1 unless given), with the store's `total` counted by the database, so the
    page costs the same however many rows a person has (the access log has one per request they
    made). A store that fits on its first page costs one query, as before; the audit entries are only
    counted (`audit_total`, in place of `audit_entries_about_me`). The complete copy is the export,
    which passes no `page_rows`."""
    with session():
        stores = _stores(subject_id, opener=opener, progress=progress, page_rows=page_rows, pages=pages)
    data: dict[str, Any] = {
        "schema": SCHEMA,
        "version": SCHEMA_VERSION,
        "subject_id": str(subject_id),
        "generated_at": timezone.now().isoformat(),
        "stores": stores,
    }
    if page_rows is not None:
        # The page says how many there are and links to their own page (Who looked at my data): a
        # COUNT, where fetching them (each with its actor and agency) cost up to 1,000 rows a view.
        data["audit_total"] = entries_about(subject_id).count()
        return data
    data["audit_entries_about_me"] = [
        {
            "time": entry.time.isoformat(),
            "action": entry.action,
            "agency": entry.agency_id,
            "role": entry.role,
            "purpose": entry.purpose,
            "legal_basis": entry.legal_basis,
            "fields": entry.field_names,
            "outcome": entry.outcome,
        }
        for entry in entries_about(subject_id)
    ]
    return data


def _stores(
    subject_id: uuid.UUID,
    *,
    opener: Opener,
    progress: Callable[[int, int], None] | None,
    page_rows: int | None,
    pages: Mapping[str, int] | None,
) -> list[dict[str, Any]]:
    """`assemble`'s stores. Every store's rows are read first, then the keys of all their sealed values
    are fetched in one key-store query (each store's `open_many` fetched its own: three a My-data page)."""
    found: list[tuple[Any, type[Model], str, list[Model], int, list[str]]] = []
    known = registry.stores()
    # A page counts the stores found by their subject column first, in one query: it reads none that
    # holds nothing about the person (most of theirs), and counts none of the others again.
    counted = finders.counts(subject_id, [store.model for store in known]) if page_rows is not None else {}
    for done, store in enumerate(known):
        if progress is not None:
            progress(done, len(known))
        finder = finders.finder_for(store.model)
        if finder is None:
            continue
        model = store.model_class()
        label = model._meta.label_lower
        if page_rows is None:
            rows = list(finder(subject_id))
            total = len(rows)
        elif counted.get(store.model) == 0:
            rows, total = [], 0
        else:
            page = (pages or {}).get(label, 1)
            start = (page - 1) * page_rows
            # One row more than the page tells whether the store goes on without counting it.
            rows = list(newest_first(finder(subject_id))[start : start + page_rows + 1])
            if store.model in counted:
                total = counted[store.model]
            else:
                total = len(rows) if page == 1 and len(rows) <= page_rows else finder(subject_id).count()
            rows = rows[:page_rows]
        # Vault fields are opened; a store's own sealing (the access log's day keys) stays sealed here.
        sealed = [d.field for d in store.declarations if isinstance(model._meta.get_field(d.field), EncryptedField)]
        found.append((store, model, label, rows, total, sealed))
    load_keys((rows, sealed) for _store, _model, _label, rows, _total, sealed in found if sealed and rows)
    stores: list[dict[str, Any]] = []
    for store, model, label, rows, total, sealed in found:
        opened = opener.open_many(rows, sealed) if sealed and rows else [{} for _row in rows]
        items = []
        for row, values in zip(rows, opened, strict=True):
            fields = {}
            for declaration in store.declarations:
                kept_sealed = not declaration.plaintext and declaration.field not in sealed
                if declaration.field in values:
                    value = values[declaration.field]
                else:
                    value = None if kept_sealed else getattr(row, declaration.field)
                fields[declaration.field] = {
                    "value": None if value is ERASED else _plain(value),
                    "erased": value is ERASED,
                    "sealed": kept_sealed,
                    "category": declaration.category.code,
                    "purposes": [purpose.code for purpose in declaration.purposes],
                    "legal_basis": declaration.legal_basis.code,
                    "retention": declaration.retention.code,
                }
            items.append({"id": str(row.pk), "fields": fields})
        stores.append(
            {
                "store": label,
                "label": str(model._meta.verbose_name_plural),
                "rows": items,
                "total": total,
            }
        )
    return stores
