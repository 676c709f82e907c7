"""The vault's writes: saving a row with its blind indexes, crypto-shredding, re-wrapping keys."""

import datetime
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from django.db import DEFAULT_DB_ALIAS, IntegrityError, router, transaction
from django.db.models import Model
from django.utils import timezone

from raksa.audit import actions as audit
from raksa.registry import registry
from raksa.vault import bulk, crypto, indexes, keys
from raksa.vault.fields import STORES, row_context
from raksa.vault.models import BlindIndex, DataKey
from raksa.vault.openers import Opener
from raksa.vault.routers import KEYSTORE
from raksa.vault.sealed import Sealed


class ValueTakenError(crypto.VaultError):
    """A field declared unique already holds this value in another row (found by its blind index).
    The message names the field, never the value."""


class PersonBusyError(crypto.VaultError):
    """A person's keys were not destroyed: a transaction sealing for them stayed open, or another key-store
    transaction kept their keys' rows locked, for `keys.WAIT_SECONDS` (nothing of theirs was destroyed;
    trying again later is safe). The message says which, never who."""


def save_sealed(instance: Model) -> None:
    """Saves a row with encrypted fields and brings the blind indexes of its indexed fields up to date."""
    with transaction.atomic(using=router.db_for_write(type(instance))):
        instance.save()
        update_indexes(instance)


def update_indexes(instance: Model) -> None:
    """Writes (or deletes) the blind index of each indexed field sealed or emptied since it was loaded."""
    row = row_context(instance)
    with transaction.atomic(using=KEYSTORE):
        for declaration in registry.declarations_for(type(instance)):
            kind = declaration.category.index
            if not declaration.indexed or kind is None:
                continue
            # The field's name is its attname: encrypted fields are never relations.
            value = instance.__dict__.get(declaration.field)
            index = BlindIndex.objects.using(KEYSTORE).filter(
                store=row.store, object_id=row.object_id, field=declaration.field
            )
            if value is None:
                index.delete()
            elif isinstance(value, Sealed) and value.index_digest is not None:
                if declaration.unique and value.previous_digests:
                    # While the index key rotates, a row not yet recomputed still holds its old digest.
                    earlier = BlindIndex.objects.using(KEYSTORE).filter(
                        store=row.store, field=declaration.field, digest__in=value.previous_digests, unique=True
                    )
                    if earlier.exclude(object_id=row.object_id).exists():
                        raise ValueTakenError(f"another {row.store} row holds this {declaration.field}")
                try:
                    with transaction.atomic(using=KEYSTORE):
                        BlindIndex.objects.using(KEYSTORE).update_or_create(
                            store=row.store,
                            object_id=row.object_id,
                            field=declaration.field,
                            defaults={
                                "kind": kind,
                                "digest": value.index_digest,
                                "unique": declaration.unique,
                                "subject_id": row.subject_id,
                                "controller_id": row.controller_id,
                                "retention": declaration.retention.code,
                                "key_id": indexes.current_key_id(),
                            },
                        )
                except IntegrityError:
                    taken = BlindIndex.objects.using(KEYSTORE).filter(
                        store=row.store, field=declaration.field, digest=value.index_digest, unique=True
                    )
                    if declaration.unique and taken.exclude(object_id=row.object_id).exists():
                        raise ValueTakenError(f"another {row.store} row holds this {declaration.field}") from None
                    raise


@dataclass(frozen=True)
class Shredded:
    keys: int
    indexes: int


def shred(
    *,
    subject_id: uuid.UUID,
    controller_id: int | None = None,
    retention: str | None = None,
    purpose: str = "rights_requests",
    actor: object = None,
) -> Shredded:
    """Crypto-shredding: destroys a subject's data keys (all, or one controller's, or one retention
    class's) and the matching blind indexes. Every value sealed under those keys reads as erased,
    in the database and in every backup of it, as soon as the key store's backups have expired.
    The audit entry (names and codes only) is written in the main database's transaction that holds the
    person, before the key store commits: a destruction is never committed without it."""
    scope: dict[str, object] = {"subject_id": subject_id}
    if controller_id is not None:
        scope["controller_id"] = controller_id
    if retention is not None:
        scope["retention"] = retention
    destroyed: list[bytes] = []
    indexes: list[int] = []

    def destroy(_subjects: list[str]) -> None:
        # The entry first, in a savepoint of the main database's transaction that holds the person (main
        # database, then key store: the order every writer takes them in). An insert that fails stops the
        # erasure before the key store commits; a key store that gave up (KeyStoreBusyError, tried again)
        # or failed takes the entry back with it.
        with transaction.atomic(using=audit.DATABASE):
            audit.record(
                action="vault.shred",
                actor=actor,
                subject_id=subject_id,
                object_type="vault.datakey",
                object_id=retention or "all",
                purpose=purpose,
            )
            with keys.destroying():
                data_keys = DataKey.objects.using(KEYSTORE).filter(destroyed_at__isnull=True, **scope)
                ended = [key_id.bytes for key_id in data_keys.values_list("id", flat=True)]
                data_keys.update(wrapped=None, destroyed_at=timezone.now())
                dropped = BlindIndex.objects.using(KEYSTORE).filter(**scope).delete()[0]
        destroyed.extend(ended)  # counted once the key store has committed
        indexes.append(dropped)

    # A value being sealed for the person meanwhile commits first, and is erased with the rest. One
    # that stays open stops the erasure, which must not say it is done while a key lives.
    database = _written_to(store.model_class() for store in registry.stores())
    busy = keys.when_free([subject_id.hex], using=database, then=destroy)
    if busy.key_store_locked:
        raise PersonBusyError(
            f"a row of this person's in the key store stayed locked by another transaction for "
            f"{keys.WAIT_SECONDS:g} s: none of their keys was destroyed"
        )
    if busy:
        raise PersonBusyError(
            f"a write for this person stayed open for {keys.WAIT_SECONDS:g} s: none of their keys was destroyed"
        )
    keys.forget(destroyed)
    return Shredded(keys=len(destroyed), indexes=sum(indexes))


def _written_to(models: Iterable[type[Model]]) -> str:
    """The database these models' rows are written to: where sealing and destroying keys meet."""
    (database,) = {router.db_for_write(model) for model in models} or {DEFAULT_DB_ALIAS}
    return database


def drop_indexes(*, model: type[Model], object_ids: Sequence[uuid.UUID | str]) -> int:
    """Deletes the blind indexes of these rows of a model (its rows were deleted or emptied in bulk)."""
    store = indexed_store(model)
    if store is None:
        return 0
    return bulk.delete_indexes(store=store, object_ids=[bulk.hex_id(object_id) for object_id in object_ids])


def indexed_store(model: type[Model]) -> str | None:
    """The store name under which the model's rows have blind indexes, or None if none of its fields is indexed."""
    store = getattr(model, "vault_store", None)
    if store is None or not any(d.indexed for d in registry.declarations_for(model)):
        return None
    return store


@dataclass(frozen=True)
class UnusedKeys:
    """What a destruction of unused keys did (`shred_unused_keys`, and a retention work's key store part):
    the keys it destroyed, and the people it had to leave."""

    destroyed: int
    # The (subject, controller) pairs given of the people a writer held, or whose key-store rows another
    # transaction kept locked, throughout (keys.when_free), subjects as hex: nothing of theirs was destroyed.
    busy: list[tuple[str, int | None]] = field(default_factory=list)


def shred_unused_keys(
    *, retention: str, scopes: Iterable[tuple[uuid.UUID | str, int | None]], now: datetime.datetime | None = None
) -> UnusedKeys:
    """Destroys the data keys of one retention class, for these (subject, controller) pairs, that no longer
    seal any value stored in the main database (every field declared under the class is empty or its
    row gone). A controller of None means every controller of that subject. The blind indexes of the
    rows emptied or deleted are the caller's to drop (`drop_indexes`): no other value is left to index.

    For bulk retention: the caller records one aggregate audit entry for the whole run instead of
    one per person (raksa.retention.actions.run_retention). Subjects may be given as UUIDs or hex
    text; the check of each store and the destruction are one statement each (raksa.vault.bulk).
    The keys destroyed are stamped `now` (by default the time of the call). People a writer holds (or
    whose key-store rows stay locked) throughout are left as they are and handed back (`UnusedKeys.busy`).
    """
    wanted = {(bulk.hex_id(subject), controller) for subject, controller in scopes}
    if not wanted:
        return UnusedKeys(destroyed=0)
    stores = [
        (store.model_class(), fields)
        for store in registry.stores()
        if (fields := [d.field for d in store.declarations if d.retention.code == retention and not d.plaintext])
    ]
    database = _written_to(model for model, _fields in stores)
    destroyed: list[bytes] = []

    def destroy_unused(subjects: list[str]) -> None:
        among = set(subjects)
        still_sealing: set[tuple[str, int]] = set()
        for model, fields in stores:
            still_sealing |= bulk.still_sealing(
                model=model,
                subject=model.vault_subject_field,  # type: ignore[attr-defined]
                controller=model.vault_controller_field,  # type: ignore[attr-defined]
                fields=fields,
                subjects=subjects,
                using=database,
            )
        still_subjects = {subject for subject, _controller in still_sealing}
        unused = {
            (subject, controller)
            for subject, controller in wanted
            if subject in among
            and (subject, controller) not in still_sealing
            and (controller is not None or subject not in still_subjects)
        }
        with keys.destroying():
            # A subject named without a controller whose values still sit under some controller: only the
            # other controllers' keys end (rare: listed one by one).
            partly = [subject for subject, controller in wanted if controller is None and subject in still_subjects]
            if partly:
                unused.update(
                    (bulk.hex_id(subject), controller)
                    for subject, controller in DataKey.objects.using(KEYSTORE)
                    .filter(destroyed_at__isnull=True, retention=retention, subject_id__in=partly)
                    .values_list("subject_id", "controller_id")
                    if (bulk.hex_id(subject), controller) not in still_sealing
                )
            ended = bulk.destroy_keys(retention=retention, scopes=unused, now=now or timezone.now())
        destroyed.extend(ended)  # once committed: a key-store transaction that waited too long is tried again

    busy = set(
        keys.when_free({subject for subject, _controller in wanted}, using=database, then=destroy_unused).subjects
    )
    keys.forget(destroyed)
    left = sorted((pair for pair in wanted if pair[0] in busy), key=lambda pair: (pair[0], pair[1] or 0))
    return UnusedKeys(destroyed=len(destroyed), busy=left)


@dataclass(frozen=True)
class Rotation:
    master_key_id: str
    rewrapped: int
    # Keys other apps keep wrapped by the master key (see register_rewrapper): how many each re-wrapped.
    others: dict[str, int] = field(default_factory=dict)


# Apps that keep keys of their own wrapped by the master key (the access log's day keys) register
# how to re-wrap them, so a rotation leaves nothing under the old master key.
type Rewrapper = Callable[[crypto.MasterKey, dict[str, crypto.MasterKey]], int]
_REWRAPPERS: dict[str, Rewrapper] = {}


def register_rewrapper(name: str, rewrap: Rewrapper) -> None:
    """`rewrap(current, masters)` re-wraps the app's keys not under `current` and returns how many;
    it raises VaultError for a key wrapped by a master key not in `masters`. Call it from AppConfig.ready."""
    _REWRAPPERS[name] = rewrap


def rotate_master_key(*, batch_size: int = 500) -> Rotation:
    """Re-wraps every data key not yet under RAKSA_MASTER_KEY, unwrapping with RAKSA_PREVIOUS_MASTER_KEYS,
    then the keys other apps registered (register_rewrapper), in one transaction with the audit entry.

    Data rows are not touched: their values stay sealed under the same data keys. Safe to re-run.
    """
    current = crypto.current_master_key()
    masters = crypto.master_keys()
    pending = (
        DataKey.objects.using(KEYSTORE)
        .filter(destroyed_at__isnull=True)
        .exclude(master_key_id=current.key_id)
        .order_by("id")
    )
    unknown = set(pending.exclude(master_key_id__in=list(masters)).values_list("master_key_id", flat=True))
    if unknown:
        raise crypto.VaultError(
            f"data keys are wrapped by master keys {sorted(unknown)}, which are not in RAKSA_PREVIOUS_MASTER_KEYS"
        )
    rewrapped = 0
    while True:
        with transaction.atomic(using=KEYSTORE):
            batch = list(pending.select_for_update()[:batch_size])
            for data_key in batch:
                assert data_key.wrapped is not None  # only live keys are selected
                raw = crypto.unwrap(masters[data_key.master_key_id], data_key.id, bytes(data_key.wrapped))
                data_key.wrapped = crypto.wrap(current, data_key.id, raw)
                data_key.master_key_id = current.key_id
            DataKey.objects.using(KEYSTORE).bulk_update(batch, ["wrapped", "master_key_id"])
            rewrapped += len(batch)
        if not batch:
            break
    # The audit entry goes to the main database, taken before the key store as everywhere (on SQLite, a
    # writer holding the main database while it waits for the key store would otherwise wait for this).
    with transaction.atomic(using=audit.DATABASE), transaction.atomic(using=KEYSTORE):
        others = {name: rewrap(current, masters) for name, rewrap in _REWRAPPERS.items()}
        audit.record(
            action="vault.rotate", object_type="vault.masterkey", object_id=current.key_id, purpose="key_rotation"
        )
    return Rotation(master_key_id=current.key_id, rewrapped=rewrapped, others=others)


@dataclass(frozen=True)
class IndexRotation:
    key_id: str
    recomputed: int
    # Rows whose value is gone (erased, emptied, or its row deleted): a stale index is dropped.
    dropped: int


def rotate_index_key(*, batch_size: int = 500) -> IndexRotation:
    """Recomputes every blind index not yet under RAKSA_INDEX_KEY from the value it indexes, opened by
    the vault's `indexer` purpose, a batch per transaction. Stopped, it resumes where it was (each row
    names its key); look-ups accept the old keys (RAKSA_PREVIOUS_INDEX_KEYS) until it is over.

    The audit entry carries the new key's fingerprint and the counts, never a value or a digest.
    """
    current = indexes.current_key_id()
    pending = BlindIndex.objects.using(KEYSTORE).exclude(key_id=current).order_by("id")
    opener = Opener.for_system("indexer")
    recomputed = dropped = 0
    while True:
        with transaction.atomic(using=KEYSTORE):
            batch = list(pending.select_for_update()[:batch_size])
            if not batch:
                break
            stale: list[int] = []
            by_field: dict[tuple[str, str], list[BlindIndex]] = {}
            for index in batch:
                by_field.setdefault((index.store, index.field), []).append(index)
            for (store, field_name), rows in by_field.items():
                model = STORES[store]
                instances = model._base_manager.in_bulk([row.object_id for row in rows])
                present = [instances[row.object_id] for row in rows if row.object_id in instances]
                opened = dict(
                    zip(
                        (instance.pk for instance in present),
                        (values[field_name] for values in opener.open_many(present, [field_name])),
                        strict=True,
                    )
                )
                for row in rows:
                    text = opened.get(row.object_id)
                    if not isinstance(text, str):
                        stale.append(row.pk)
                        continue
                    row.digest = indexes.digest(row.kind, text)
                    row.key_id = current
            dropping = set(stale)
            live = [row for row in batch if row.pk not in dropping]
            BlindIndex.objects.using(KEYSTORE).bulk_update(live, ["digest", "key_id"])
            BlindIndex.objects.using(KEYSTORE).filter(pk__in=stale).delete()
            recomputed += len(live)
            dropped += len(stale)
    audit.record(
        action="vault.rotate_index",
        object_type="vault.indexkey",
        object_id=f"{current}-recomputed{recomputed}-dropped{dropped}",
        purpose="key_rotation",
    )
    return IndexRotation(key_id=current, recomputed=recomputed, dropped=dropped)
