"""Finding, creating and (per request only) caching data keys.

Unwrapped data keys are kept in memory only inside a `session()` — one web request (the middleware
opens one) or one bulk job — and are dropped when it ends. Outside a session every seal and open
looks its key up in the key store again, which is correct but slower.
"""

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import IntegrityError, connections, transaction

from raksa.vault import crypto
from raksa.vault.models import DataKey
from raksa.vault.routers import KEYSTORE


class Key:
    """An unwrapped data key. It lives no longer than the session that looked it up.

    A class with slots, not a frozen dataclass: a list screen unwraps a key per person on it, and
    the dataclass's frozen set-up cost as much as the unwrapping.
    """

    __slots__ = ("aead", "controller_id", "header", "id", "retention", "subject_int")

    def __init__(self, key_id: bytes, subject_int: int, controller_id: int, retention: str, raw: bytes) -> None:
        self.id = key_id
        # The subject's UUID as an int: compared for every value opened, and ints compare fastest.
        self.subject_int = subject_int
        self.controller_id = controller_id
        self.retention = retention
        self.aead = AESGCM(raw)
        # What every value sealed under this key starts with (version and key ID).
        self.header = crypto.header(key_id)

    def __repr__(self) -> str:
        return f"<Key {uuid.UUID(bytes=self.id)} {self.retention}>"


@dataclass
class _Cache:
    # A key ID mapped to None: the key was looked up and does not exist (shredded).
    by_id: dict[bytes, Key | None] = field(default_factory=dict)
    # (subject UUID as an int, controller ID, retention class): ints hash faster than UUIDs.
    by_scope: dict[tuple[int, int, str], Key] = field(default_factory=dict)

    def add(self, key: Key) -> None:
        self.by_id[key.id] = key
        self.by_scope[(key.subject_int, key.controller_id, key.retention)] = key


_session: ContextVar[_Cache | None] = ContextVar("raksa_vault_session", default=None)


@contextmanager
def session() -> Iterator[None]:
    """Keeps unwrapped keys for the duration of the block (a request, a bulk job); nests freely."""
    if _session.get() is not None:
        yield
        return
    token = _session.set(_Cache())
    try:
        yield
    finally:
        _session.reset(token)


def _cache() -> _Cache:
    """The session's cache, or a throw-away one when no session is open."""
    return _session.get() or _Cache()


# A key-store row as the functions below pass it: (key ID as 16 bytes, subject UUID as an int,
# controller ID, retention class, wrapped key or None once destroyed, master key ID).
type _Row = tuple[bytes, int, int, str, bytes | None, str]

_ROW_FIELDS = ("id", "subject_id", "controller_id", "retention", "wrapped", "master_key_id")


def _row(values: tuple) -> _Row:
    """A row the ORM gave (`_ROW_FIELDS`, UUIDs and a memoryview) as `_Row`."""
    key_id, subject_id, controller_id, retention, wrapped, master_key_id = values
    return (
        key_id.bytes,
        subject_id.int,
        controller_id,
        retention,
        None if wrapped is None else bytes(wrapped),
        master_key_id,
    )


def _unwrapped(row: _Row, masters: dict[str, crypto.MasterKey]) -> Key | None:
    """The usable key of a key-store row; None if the key has been destroyed."""
    key_id, subject_int, controller_id, retention, wrapped, master_key_id = row
    if wrapped is None:
        return None
    master = masters.get(master_key_id)
    if master is None:
        raise crypto.VaultError(
            f"the data key {uuid.UUID(bytes=key_id)} is wrapped by master key {master_key_id!r}, which is not "
            "configured (RAKSA_MASTER_KEY / RAKSA_PREVIOUS_MASTER_KEYS)"
        )
    return Key(key_id, subject_int, controller_id, retention, crypto.unwrap(master, key_id, wrapped))


def key_for_sealing(subject_id: uuid.UUID, controller_id: int, retention: str) -> Key:
    """The data key of this subject, controller and retention class, created on first use."""
    cache = _session.get() or _Cache()
    key = cache.by_scope.get((subject_id.int, controller_id, retention))
    if key is not None:
        return key
    masters = crypto.master_keys()
    row = (
        DataKey.objects.using(KEYSTORE)
        .filter(subject_id=subject_id, controller_id=controller_id, retention=retention, destroyed_at__isnull=True)
        .values_list(*_ROW_FIELDS)
        .first()
    )
    key = _unwrapped(_row(row), masters) if row is not None else None
    if key is None:
        key = _create(subject_id, controller_id, retention)
    cache.add(key)
    return key


def _create(subject_id: uuid.UUID, controller_id: int, retention: str) -> Key:
    master = crypto.current_master_key()
    raw = crypto.new_data_key()
    key_id = uuid.uuid4()
    try:
        with transaction.atomic(using=KEYSTORE):
            DataKey.objects.using(KEYSTORE).create(
                id=key_id,
                subject_id=subject_id,
                controller_id=controller_id,
                retention=retention,
                wrapped=crypto.wrap(master, key_id, raw),
                master_key_id=master.key_id,
            )
    except IntegrityError:
        # Another request created it first: use theirs, so all values share one key.
        existing = (
            DataKey.objects.using(KEYSTORE)
            .filter(subject_id=subject_id, controller_id=controller_id, retention=retention, destroyed_at__isnull=True)
            .values_list(*_ROW_FIELDS)
            .get()
        )
        key = _unwrapped(_row(existing), crypto.master_keys())
        if key is None:
            raise crypto.VaultError(f"the live data key {existing[0]} has no key material") from None
        return key
    return Key(key_id.bytes, subject_id.int, controller_id, retention, raw)


def keys_by_id(key_ids: Iterable[bytes]) -> dict[bytes, Key | None]:
    """The keys with these IDs, fetched in as few queries as possible; None for a destroyed key.

    Raises TamperedError if an ID names no key at all: such a value was forged or its header edited.
    """
    cache = _cache()
    by_id = cache.by_id
    wanted = set(key_ids)
    missing = [key_id for key_id in wanted if key_id not in by_id]
    if missing:
        masters = crypto.master_keys()
        for row in _fetch(missing):
            key = _unwrapped(row, masters)
            if key is None:
                by_id[row[0]] = None
            else:
                cache.add(key)
    unknown = wanted.difference(by_id)
    if unknown:
        raise crypto.TamperedError(f"{len(unknown)} sealed value(s) name a data key that never existed")
    return {key_id: by_id[key_id] for key_id in wanted}


def _fetch(key_ids: list[bytes]) -> list[_Row]:
    """Key-store rows by ID. Plain SQL, and no UUID objects either way: a list screen opens a key per
    person, and making UUIDs (≈1 µs each, two a row) was a third of a 1,000-person screen's fetch."""
    connection = connections[KEYSTORE]
    table = connection.ops.quote_name(DataKey._meta.db_table)
    rest = f"controller_id, retention, wrapped, master_key_id FROM {table} WHERE id"
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":  # UUIDField is char(32) hex there
            # One parameter, a JSON array of hex IDs (nothing to escape): with a thousand, Django's
            # debug cursor (DEBUG, as the bench runs) spent 0.8 ms quoting them for its query log.
            cursor.execute(
                f"SELECT id, subject_id, {rest} IN (SELECT value FROM json_each(%s))",  # noqa: S608  # nosec B608
                ['["' + '","'.join(key_id.hex() for key_id in key_ids) + '"]'],
            )
            return [(bytes.fromhex(r[0]), int(r[1], 16), r[2], r[3], r[4], r[5]) for r in cursor.fetchall()]
        # The IDs go as one array literal of hex text (a list of strings costs psycopg more to adapt)
        # and come back as their 16 bytes (uuid_send), which psycopg reads without making UUIDs.
        cursor.execute(
            f"SELECT uuid_send(id), uuid_send(subject_id), {rest} = ANY(%s::uuid[])",  # nosec B608
            ["{" + ",".join(key_id.hex() for key_id in key_ids) + "}"],
        )
        return [(r[0], int.from_bytes(r[1]), r[2], r[3], r[4], r[5]) for r in cursor.fetchall()]


def key_by_id(key_id: bytes) -> Key | None:
    cache = _session.get()
    if cache is not None:
        try:
            return cache.by_id[key_id]
        except KeyError:
            pass
    return keys_by_id([key_id])[key_id]


def forget(key_ids: Iterable[bytes]) -> None:
    """Marks keys destroyed in the session's cache, so later opens in the request say erased."""
    cache = _session.get()
    if cache is None:
        return
    destroyed = set(key_ids)
    for key_id in destroyed:
        cache.by_id[key_id] = None
    for scope in [scope for scope, key in cache.by_scope.items() if key.id in destroyed]:
        del cache.by_scope[scope]
