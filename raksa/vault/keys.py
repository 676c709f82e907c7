"""Finding, creating and (per request only) caching data keys, and the protocol that keeps a key from
being destroyed while a value sealed under it is being written.

Unwrapped data keys are kept in memory only inside a `session()` — one web request (the middleware
opens one) or one bulk job — and are dropped when it ends. Outside a session every seal and open
looks its key up in the key store again, which is correct but slower.

Sealing and destroying meet in the main database, where sealed rows commit (the key store is another
database: docs/privacy-core.md, "Sealing while keys are destroyed"). A value is sealed inside a
transaction on the main database, which first holds the subject (`key_for_sealing`) and then reads
the subject's live key from the key store; the hold lasts until that transaction ends. Destroying
keys (`when_free`) takes the subjects alone in a transaction on the main database, checks there
what still seals, and destroys in the key store before it ends. So a key is destroyed only after
every transaction sealing under it has committed (and its rows are seen by the check) or rolled
back, and a transaction that holds the subject afterwards reads the key destroyed and makes a new one.
"""

import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import IntegrityError, OperationalError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

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

    def add(self, key: Key) -> None:
        self.by_id[key.id] = key


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


def _unwrapped_all(rows: list[_Row], masters: dict[str, crypto.MasterKey]) -> Iterator[tuple[bytes, Key | None]]:
    """(key ID, its usable key or None if destroyed) for each row, as `_unwrapped` gives them one by one.

    A list screen unwraps a key per person on it: the loop is flat (each master key's decrypt looked
    up once, a Key filled in without its constructor's calls). One by one, a 1,000-key screen's
    unwrapping cost 1.5 times bare AES-GCM's own (the decryption and the key object); flat, 1.3.
    The checks are `_unwrapped`'s: an unknown master key raises VaultError, a wrapped key that fails
    authentication TamperedError."""
    decrypts: dict[str, Callable[[bytes, bytes, bytes], bytes]] = {}
    new, version, context = Key.__new__, crypto.VERSION_BYTE, crypto.WRAP_CONTEXT
    for row in rows:
        key_id, subject_int, controller_id, retention, wrapped, master_key_id = row
        if wrapped is None:
            yield key_id, None
            continue
        decrypt = decrypts.get(master_key_id)
        if decrypt is None:
            if master_key_id not in masters:
                _unwrapped(row, masters)  # raises its VaultError
            decrypt = decrypts[master_key_id] = masters[master_key_id].aead.decrypt
        try:
            raw = decrypt(wrapped[: crypto.NONCE_SIZE], wrapped[crypto.NONCE_SIZE :], context + key_id)
        except InvalidTag:
            _unwrapped(row, masters)  # raises its TamperedError
            raise
        key = new(Key)
        key.id = key_id
        key.subject_int = subject_int
        key.controller_id = controller_id
        key.retention = retention
        key.aead = AESGCM(raw)
        key.header = version + key_id
        yield key_id, key


# PostgreSQL: the advisory lock a transaction that seals holds on its subject (shared) and a
# destruction takes (exclusive), keyed by this class and the subject UUID's first 32 bits; subjects
# that share those bits only wait for each other. SQLite needs none: a transaction there holds the
# main database's only writer's lock from its start (transaction_mode IMMEDIATE).
SUBJECT_LOCK = 0x7661756C
# How long a destruction tries again for subjects being sealed under before it gives up on them (the
# retention run that asked leaves them for its next run; an erasure fails and is retried).
WAIT_SECONDS = 30.0
# The most subjects a destruction holds at once (one transaction each group): PostgreSQL's lock table
# is shared by every session and holds max_locks_per_transaction x max_connections locks (6,400 by
# default), and a retention batch names up to 5,000 people.
LOCKS_AT_ONCE = 2000
# The most subjects one transaction seals values for: each holds a lock in that table until the commit
# (20,000 in one transaction failed with "out of shared memory"). Refused on SQLite too, so that code
# which seals in bulk fails the same way on both databases, before PostgreSQL does.
SUBJECTS_A_TRANSACTION = 2000
# How long (ms) a destruction's key-store statement waits for a key-store row lock before it gives up and
# its subjects are tried again (when_free): it holds them in the main database meanwhile, and a writer
# holding that row lock could be waiting for them (PostgreSQL; SQLite's writers wait at BEGIN, in order).
KEY_STORE_LOCK_TIMEOUT_MS = 1000
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for a lock_timeout


class _Held:
    """A subject held by a transaction (on PostgreSQL, its advisory lock), with the keys read live since,
    by (controller, retention class). It is the commit's callback: while still pending it says the
    subject is held (a rollback, also to a savepoint taken before the hold, drops it, and PostgreSQL
    then releases the lock)."""

    __slots__ = ("keys", "listed_in")

    def __init__(self) -> None:
        self.keys: dict[tuple[int, str], bytes] = {}
        self.listed_in: list[Any] | None = None

    def __call__(self) -> None:
        self.keys.clear()


class _Hold:
    """The subjects one transaction on the main database holds. It is the commit's callback too, so a
    later transaction on the connection starts a new one."""

    __slots__ = ("listed_in", "subjects")

    def __init__(self) -> None:
        self.subjects: dict[int, _Held] = {}
        self.listed_in: list[Any] | None = None

    def __call__(self) -> None:
        self.subjects.clear()


def _pending(connection: BaseDatabaseWrapper, callback: _Hold | _Held) -> bool:
    """Whether the callback still waits for the transaction's commit. Django only appends to a
    connection's list of callbacks; a commit, a rollback or a rolled-back savepoint replaces the list.
    So the list the callback went into, still the connection's, holds it: no scan on every seal (a scan
    cost each value sealed ~1 us, and grew with the transaction's callbacks)."""
    if callback.listed_in is connection.run_on_commit:
        return True
    if any(entry[1] is callback for entry in connection.run_on_commit):
        callback.listed_in = connection.run_on_commit  # a savepoint's rollback kept it in a new list
        return True
    return False


def _listed(connection: BaseDatabaseWrapper, callback: _Hold | _Held) -> None:
    connection.on_commit(callback)
    callback.listed_in = connection.run_on_commit


def _hold(connection: BaseDatabaseWrapper) -> _Hold:
    """The hold of the connection's transaction (a new one once the last one's transaction has ended)."""
    if not connection.in_atomic_block:
        raise crypto.VaultError(
            "values are sealed inside a transaction on their row's database (save_sealed or transaction.atomic), "
            "so that their key cannot be destroyed before the row commits"
        )
    hold: _Hold | None = getattr(connection, "vault_hold", None)
    if hold is not None and _pending(connection, hold):
        return hold
    if connection.vendor == "sqlite" and connection.transaction_mode != "IMMEDIATE":  # type: ignore[attr-defined]
        raise crypto.VaultError("SQLite databases need OPTIONS transaction_mode IMMEDIATE (raksa.env)")
    hold = _Hold()
    _listed(connection, hold)
    connection.vault_hold = hold  # type: ignore[attr-defined]
    return hold


def lock_id(subject_hex: str) -> int:
    """The second key of a subject's advisory lock: its first 32 bits as a signed int4."""
    value = int(subject_hex[:8], 16)
    return value - (1 << 32) if value >= 1 << 31 else value


def key_for_sealing(subject_id: uuid.UUID, controller_id: int, retention: str, *, using: str) -> Key:
    """The data key of this subject, controller and retention class, created on first use, for a value
    of a row written to the database `using` in the transaction open there. Once per transaction and
    subject, the subject is held there; once per transaction and key, the key is read live from the
    key store after that (a key cached earlier may have been destroyed meanwhile)."""
    connection = connections[using]
    hold = _hold(connection)
    cache = _cache()
    held = hold.subjects.get(subject_id.int)
    if held is not None and _pending(connection, held):
        key_id = held.keys.get((controller_id, retention))
        key = cache.by_id.get(key_id) if key_id is not None else None
        if key is not None:
            return key
    else:
        if subject_id.int not in hold.subjects and len(hold.subjects) >= SUBJECTS_A_TRANSACTION:
            _refuse_more_subjects(connection, hold)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock_shared(%s, %s)", [SUBJECT_LOCK, lock_id(subject_id.hex)])
        held = hold.subjects[subject_id.int] = _Held()
        _listed(connection, held)
    row = _live_row(subject_id, controller_id, retention)
    # A key's material never changes while it lives: the one the session unwrapped before is still it.
    key = cache.by_id.get(row[0]) if row is not None else None
    if key is None and row is not None:
        key = _unwrapped(row, crypto.master_keys())
    if key is None:
        key = _create(subject_id, controller_id, retention)
    cache.add(key)
    held.keys[(controller_id, retention)] = key.id
    return key


def _live_row(subject_id: uuid.UUID, controller_id: int, retention: str) -> _Row | None:
    """The live key-store row of this subject, controller and class, read now (the partial unique constraint
    on live keys finds it). Plain SQL, as `_fetch`: once per sealing transaction, and building the ORM's
    query cost more than the round trip (≈0.5 ms a transaction on SQLite)."""
    connection = connections[KEYSTORE]
    table = connection.ops.quote_name(DataKey._meta.db_table)
    where = "subject_id = %s AND controller_id = %s AND retention = %s AND destroyed_at IS NULL"
    rest = f"controller_id, retention, wrapped, master_key_id FROM {table} WHERE {where}"
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":  # UUIDField is char(32) hex there
            cursor.execute(f"SELECT id, subject_id, {rest}", [subject_id.hex, controller_id, retention])  # nosec B608
            found = cursor.fetchone()
            return None if found is None else (bytes.fromhex(found[0]), int(found[1], 16), *found[2:])
        cursor.execute(
            f"SELECT uuid_send(id), uuid_send(subject_id), {rest}",  # nosec B608
            [subject_id, controller_id, retention],
        )
        found = cursor.fetchone()
        return None if found is None else (found[0], int.from_bytes(found[1]), *found[2:])


def _refuse_more_subjects(connection: BaseDatabaseWrapper, hold: _Hold) -> None:
    """Raises VaultError if the transaction still holds SUBJECTS_A_TRANSACTION subjects (those a rolled-back
    savepoint let go are forgotten first)."""
    for subject_int in [subject for subject, held in hold.subjects.items() if not _pending(connection, held)]:
        del hold.subjects[subject_int]
    if len(hold.subjects) >= SUBJECTS_A_TRANSACTION:
        raise crypto.VaultError(
            f"one transaction seals values of at most {SUBJECTS_A_TRANSACTION} people (each is held until it "
            "commits): seal them in several transactions"
        )


class KeyStoreBusyError(crypto.VaultError):
    """A destruction's key-store statement waited KEY_STORE_LOCK_TIMEOUT_MS for a row lock: nothing was
    destroyed, and `when_free` tries its subjects again (halved, down to the one whose row it is)."""


@contextmanager
def destroying() -> Iterator[None]:
    """The key-store transaction of a destruction (`when_free`'s `then`), whose statements wait at most
    KEY_STORE_LOCK_TIMEOUT_MS for a key-store row lock (PostgreSQL): the destruction holds its subjects in
    the main database meanwhile, so a wait of its own could close a cycle with a writer."""
    try:
        with transaction.atomic(using=KEYSTORE):
            connection = connections[KEYSTORE]
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(f"SET LOCAL lock_timeout = {int(KEY_STORE_LOCK_TIMEOUT_MS)}")
            yield
    except OperationalError as error:
        if getattr(error.__cause__, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        raise KeyStoreBusyError("a key-store row stayed locked: the destruction is tried again") from error


@dataclass(frozen=True)
class Busy:
    """The subjects (hex, sorted) `when_free` gave up on after WAIT_SECONDS: nothing of theirs was destroyed."""

    # A writer held them in the main database at the last try.
    held_by_writers: list[str] = field(default_factory=list)
    # Their key-store transaction met a row another transaction kept locked at the last try (KeyStoreBusyError).
    key_store_locked: list[str] = field(default_factory=list)

    @property
    def subjects(self) -> list[str]:
        return sorted(self.held_by_writers + self.key_store_locked)

    def __bool__(self) -> bool:
        return bool(self.held_by_writers or self.key_store_locked)


def when_free(subjects: Iterable[str], *, using: str, then: Callable[[list[str]], None]) -> Busy:
    """Calls `then` with these subjects (hex) in transactions on the database `using` that hold them
    alone: no transaction sealing under their keys is open there meanwhile, and none begins until it
    has ended — so `then` checks what still seals, and destroys keys in the key store, before it ends.

    It never waits in the main database's lock queue (a writer waiting behind it could then be part of
    a deadlock): subjects held by a writer are tried again a moment later, in a transaction of their
    own, for up to WAIT_SECONDS. A `then` whose key-store transaction (`destroying`) waited too long for
    a row lock (KeyStoreBusyError) destroyed nothing: its subjects are split in two, each half tried
    again at once in a transaction of its own (the locks let go between: the row's holder may be
    waiting for one of them), down to the one whose row it is, who is tried again like a held one. So a
    row kept locked costs the others about log2(group) lock timeouts, never their destruction.

    Returns those still held or locked out at the last try after WAIT_SECONDS (`Busy`): `then` never
    had them, nothing of theirs was destroyed, and the caller decides what becomes of them (retention
    leaves them for its next run, an erasure fails). A writer that never ends (a connection idle in a
    transaction) so costs a destruction WAIT_SECONDS, never the rest of its work."""
    remaining = sorted(set(subjects))
    deadline = time.monotonic() + WAIT_SECONDS
    pause = 0.002
    while True:
        held: list[str] = []
        locked: list[str] = []
        groups = [remaining[start : start + LOCKS_AT_ONCE] for start in range(0, len(remaining), LOCKS_AT_ONCE)]
        while groups:
            group = groups.pop()
            met_a_locked_row = False
            with transaction.atomic(using=using):
                held_by_writers = _take_alone(connections[using], group)
                free = [subject for subject in group if subject not in held_by_writers]
                if free:
                    try:
                        then(free)
                    except KeyStoreBusyError:
                        met_a_locked_row = True  # nothing of theirs destroyed: the key store rolled back
            held += held_by_writers
            if met_a_locked_row and len(free) > 1:
                middle = len(free) // 2
                groups += [free[middle:], free[:middle]]
            elif met_a_locked_row:
                locked += free
        remaining = sorted(held + locked)
        if not remaining:
            return Busy()
        if time.monotonic() > deadline:
            return Busy(held_by_writers=sorted(held), key_store_locked=sorted(locked))
        wait_for_writers(pause)
        pause = min(pause * 2, 0.1)


def _take_alone(connection: BaseDatabaseWrapper, subjects: list[str]) -> set[str]:
    """Holds these subjects alone in the connection's transaction; returns those a writer holds."""
    if connection.vendor != "postgresql":
        return set()  # the transaction holds SQLite's only writer's lock
    by_lock: dict[int, list[str]] = {}
    for subject in subjects:
        by_lock.setdefault(lock_id(subject), []).append(subject)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM unnest(%s::int[]) AS t(id) WHERE NOT pg_try_advisory_xact_lock(%s, id)",
            [sorted(by_lock), SUBJECT_LOCK],
        )
        return {subject for (held,) in cursor.fetchall() for subject in by_lock[held]}


def wait_for_writers(seconds: float) -> None:
    """The pause before a destruction tries again (its own function: a test steps in when it yields)."""
    time.sleep(seconds)


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
        by_id.update(_unwrapped_all(_fetch(missing), crypto.master_keys()))
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
    """Marks keys destroyed in the session's cache, so later opens in the request say erased, and in
    this thread's transactions (destroyed in line, by a transaction that sealed under them before)."""
    destroyed = set(key_ids)
    for connection in connections.all(initialized_only=True):
        hold: _Hold | None = getattr(connection, "vault_hold", None)
        for held in hold.subjects.values() if hold is not None else ():
            for scope in [scope for scope, key_id in held.keys.items() if key_id in destroyed]:
                del held.keys[scope]
    cache = _session.get()
    if cache is None:
        return
    for key_id in destroyed:
        cache.by_id[key_id] = None
