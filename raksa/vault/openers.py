"""Openers: the only way from a sealed value back to text.

- `Opener.for_subject(subject_id)` — the person's own session: opens values sealed under that
  subject's keys and nothing else.
- `Opener.for_system(purpose)` — a named system purpose from `SYSTEM_PURPOSES` (the mailer, the
  export…), limited to the categories that purpose needs.
- Staff never get an opener directly: the gateway (raksa/audit/gateway.py) makes one with
  `_staff_opener` after it has checked need-to-know and committed the audit entry. That factory
  refuses any other caller, and the constructor refuses anyone without the module's private grant.

Opening gives the text, None for an empty field, or `ERASED` once the key is destroyed. A value of
another subject (or a field the opener is not for) raises `OpenDeniedError`; a tampered or moved
ciphertext raises `TamperedError`. Neither message carries a value.
"""

import sys
import uuid
from collections.abc import Iterable, Sequence
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from django.db.models import Model

from raksa.registry import registry
from raksa.vault import crypto
from raksa.vault.fields import STORES
from raksa.vault.keys import key_by_id, keys_by_id, session
from raksa.vault.sealed import ERASED, Opened, Sealed

# Named system purposes and the categories each may open (None: every category).
SYSTEM_PURPOSES: Final[dict[str, frozenset[str] | None]] = {
    # Mail the person asked for or must receive (account recovery, replies, notices).
    "mailer": frozenset({"email", "name"}),
    # The person's own export (R1), and the scoped exports made for a processor's contract (U3).
    "export": None,
    # Rebuilding blind indexes after a change of RAKSA_INDEX_KEY.
    "indexer": frozenset({"email", "phone", "national_id"}),
}

_STAFF_GATEWAY: Final = "raksa.audit.gateway"
_GRANT: Final = object()


class OpenDeniedError(crypto.VaultError, PermissionError):
    """This opener may not open this value."""


type FieldRef = tuple[str, str]


def field_ref(model: type[Model], field: str) -> FieldRef:
    """(logical store, field name): how a staff opener names the fields it may open."""
    return (model.vault_store, field)  # type: ignore[attr-defined]


class Opener:
    __slots__ = ("_categories", "_fields", "_kind", "_purpose", "_subject_id", "_subject_int")

    def __init__(
        self,
        grant: object,
        *,
        kind: str,
        purpose: str,
        subject_id: uuid.UUID | None = None,
        fields: frozenset[FieldRef] | None = None,
        categories: frozenset[str] | None = None,
    ) -> None:
        if grant is not _GRANT:
            raise TypeError("openers are made by Opener.for_subject, Opener.for_system or the staff gateway")
        self._kind = kind
        self._purpose = purpose
        self._subject_id = subject_id
        # Compared for every value opened: an int compares faster than a UUID.
        self._subject_int = None if subject_id is None else subject_id.int
        self._fields = fields
        self._categories = categories

    @classmethod
    def for_subject(cls, subject_id: uuid.UUID | str) -> "Opener":
        """For the subject's own session: opens only that subject's values."""
        return cls(_GRANT, kind="subject", purpose="own_data", subject_id=uuid.UUID(str(subject_id)))

    @classmethod
    def for_system(cls, purpose: str) -> "Opener":
        """For a named system purpose (see SYSTEM_PURPOSES)."""
        if purpose not in SYSTEM_PURPOSES:
            raise ValueError(f"{purpose!r} is not a system purpose; known: {', '.join(SYSTEM_PURPOSES)}")
        return cls(_GRANT, kind="system", purpose=purpose, categories=SYSTEM_PURPOSES[purpose])

    @property
    def kind(self) -> str:
        return self._kind

    @property
    def purpose(self) -> str:
        return self._purpose

    @property
    def subject_id(self) -> uuid.UUID | None:
        return self._subject_id

    def __repr__(self) -> str:
        return f"<Opener {self._kind} {self._purpose}>"

    def __reduce__(self) -> Any:
        raise TypeError("an opener is a capability of one request; it cannot be pickled or queued")

    def open(self, value: Sealed | None) -> Opened:
        if value is None:
            return None
        if type(value) is not Sealed:
            raise TypeError("only sealed values can be opened (save the row first)")
        # Kept flat: a list screen opens thousands of values per request.
        blob = value.blob
        key = key_by_id(crypto.key_id_of(blob))
        if key is None:
            return ERASED
        if self._subject_int is not None and key.subject_int != self._subject_int:
            raise OpenDeniedError(f"this {self._kind} opener is for another subject")
        if self._fields is not None or self._categories is not None:
            self._authorise_field(value)
        return crypto.unseal(key.aead, blob, value.associated_data)

    def open_field(self, instance: Model, field: str) -> Opened:
        return self.open(getattr(instance, field))

    def open_many(self, instances: Iterable[Model], fields: Sequence[str]) -> list[dict[str, Opened]]:
        """Opens these fields of every row, fetching all their keys in one query (lists, exports)."""
        return open_rows([(self, instance) for instance in instances], fields)

    def _authorise_field(self, value: Sealed) -> None:
        self._authorise_ref(value.store, value.field)

    def _authorise_ref(self, store: str, field: str) -> None:
        if self._fields is not None and (store, field) not in self._fields:
            raise OpenDeniedError(f"this {self._kind} opener may not open {store}.{field}")
        if self._categories is not None:
            declaration = registry.declaration(STORES[store], field)
            if declaration.category.code not in self._categories:
                raise OpenDeniedError(f"the {self._purpose} purpose may not open {store}.{field}")


def open_rows(rows: Sequence[tuple[Opener, Model]], fields: Sequence[str]) -> list[dict[str, Opened]]:
    """Opens these fields of each row with the opener paired with it: a list screen of many people,
    each under their own opener (the staff gateway), or many rows under one (`Opener.open_many`).

    The same checks as `Opener.open`, arranged for a screen of thousands of values: every key the
    rows need is fetched in one key-store query and unwrapped once, the rows' raw column bytes are
    opened directly (no Sealed objects), and each opener's field rules are checked once per model
    rather than once per value.
    """
    prefixes: dict[type[Model], list[bytes]] = {}
    authorised: set[tuple[int, type[Model]]] = set()
    blobs: list[list[bytes | None]] = []
    for opener, instance in rows:
        model = type(instance)
        if model not in prefixes:
            store: str = model.vault_store  # type: ignore[attr-defined]
            prefixes[model] = [crypto.associated_data_prefix(store, field) for field in fields]
        if (opener._fields is not None or opener._categories is not None) and (id(opener), model) not in authorised:
            for field in fields:
                opener._authorise_ref(model.vault_store, field)  # type: ignore[attr-defined]
            authorised.add((id(opener), model))
        values = instance.__dict__
        blobs.append([_blob(values[field] if field in values else getattr(instance, field)) for field in fields])
    opened: list[dict[str, Opened]] = []
    # key_id_of checks each value's version and length, so the loop below may slice blindly.
    key_id_of, key_end, header = crypto.key_id_of, 1 + crypto.KEY_ID_SIZE, crypto.HEADER_SIZE
    with session():
        keys = keys_by_id({key_id_of(blob) for row in blobs for blob in row if blob is not None})
        try:
            for (opener, instance), row in zip(rows, blobs, strict=True):
                subject = opener._subject_int
                object_id = instance.pk.bytes
                result: dict[str, Opened] = {}
                for field, prefix, blob in zip(fields, prefixes[type(instance)], row, strict=True):
                    if blob is None:
                        result[field] = None
                        continue
                    key = keys[blob[1:key_end]]
                    if key is None:
                        result[field] = ERASED
                    elif subject is not None and key.subject_int != subject:
                        raise OpenDeniedError(f"this {opener.kind} opener is for another subject")
                    else:
                        text = key.aead.decrypt(blob[key_end:header], blob[header:], prefix + object_id)
                        result[field] = text.decode()
                opened.append(result)
        except InvalidTag:
            raise crypto.TamperedError(
                "a sealed value failed authentication (tampered, or copied from another row or field)"
            ) from None
    return opened


def load_keys(groups: Iterable[tuple[Sequence[Model], Sequence[str]]]) -> None:
    """Fetches the keys of these rows' fields (rows and the fields to open of them, per group) in one
    key-store query, into the session open around the call, so that opening the groups afterwards (an
    `open_many` each: a page of several stores) queries the key store no more. It opens nothing: each
    value is still checked against its opener when opened."""
    key_id_of = crypto.key_id_of
    wanted: set[bytes] = set()
    for instances, fields in groups:
        for instance in instances:
            values = instance.__dict__
            for field in fields:
                blob = _blob(values[field] if field in values else getattr(instance, field))
                if blob is not None:
                    wanted.add(key_id_of(blob))
    if wanted:
        keys_by_id(wanted)


def _blob(value: object) -> bytes | None:
    """The ciphertext of a field value as a row holds it (raw column bytes, or a Sealed)."""
    if value is None or type(value) is bytes:
        return value
    if isinstance(value, Sealed):
        return value.blob
    if isinstance(value, memoryview):
        return bytes(value)
    raise TypeError("only sealed values can be opened (save the row first)")


def _staff_opener(*, subject_id: uuid.UUID, fields: Iterable[FieldRef], purpose: str) -> Opener:
    """Made only by the gateway, after its checks and its committed audit entry."""
    caller = sys._getframe(1).f_globals.get("__name__")
    if caller != _STAFF_GATEWAY:
        raise PermissionError(f"staff openers are made only by {_STAFF_GATEWAY}, not {caller}")
    return Opener(_GRANT, kind="staff", purpose=purpose, subject_id=subject_id, fields=frozenset(fields))
