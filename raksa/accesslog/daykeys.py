"""Per-day keys: sealing raw IPs and browser strings, the IP index, and the daily visitor salt.

The vault's data keys are per (subject, controller, retention class); the access log needs one key
per day instead, so it keeps its own table (DayKey, in the key store) wrapped with the vault's
master key and primitives (raksa.vault.crypto). From the day's 32-byte key three keys are derived:
one seals values (AES-256-GCM), one computes the keyed IP index an investigator searches by, one the
client key an ingester finds the day's client (IP and browser string) by. The salt is separate
because it is destroyed sooner: at the end of the day.

A `DayKeys` object holds unwrapped keys for one batch job (an ingest run, a search) and is dropped
with it; no key outlives the job in memory.
"""

import datetime
import hashlib
import hmac
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import IntegrityError, transaction

from raksa.accesslog.models import DayKey
from raksa.vault import crypto

KEYSTORE = "keystore"
_STORE = b"accesslog.record"


class DayShreddedError(LookupError):
    """The day's key was destroyed: its raw records can no longer be read."""


class SaltDestroyedError(LookupError):
    """The day is over and its visitor salt destroyed: no visitor key can be computed for it."""


class KeyedHash:
    """HMAC-SHA256 under one key with its two padded key blocks hashed once (RFC 2104, section 4).

    The digest is `hmac.digest(key, message, "sha256")`'s, at about half its cost for the short
    messages of an access record (OpenSSL's one-shot HMAC sets the key up again on every call); the
    ingester computes two per new client.
    """

    def __init__(self, key: bytes) -> None:
        size = hashlib.sha256().block_size
        block = (hashlib.sha256(key).digest() if len(key) > size else key).ljust(size, b"\0")
        self._inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in block))
        self._outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in block))

    def __call__(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()


@dataclass
class _Day:
    aead: AESGCM
    header: bytes
    index: KeyedHash
    client: KeyedHash
    salt: KeyedHash | None


class DayKeys:
    def __init__(self) -> None:
        self._days: dict[datetime.date, _Day] = {}
        self._shredded: set[datetime.date] = set()

    def load(self, days: Iterable[datetime.date]) -> None:
        """Unwraps the keys of these days for reading in one key-store query (a search over 90 days
        opens up to 90); a day without a key is remembered as shredded, so `for_reading` says so
        without asking the key store again."""
        wanted = set(days) - self._days.keys() - self._shredded
        if not wanted:
            return
        rows = {row.day: row for row in DayKey.objects.using(KEYSTORE).filter(day__in=wanted)}
        for day in wanted:
            if day in rows:
                self._days[day] = _unwrap(rows[day])
            else:
                self._shredded.add(day)

    def _get(self, day: datetime.date, *, create: bool) -> _Day:
        cached = self._days.get(day)
        if cached is not None:
            return cached
        if day in self._shredded and not create:
            raise DayShreddedError(f"no key for {day}")
        row = DayKey.objects.using(KEYSTORE).filter(day=day).first()
        if row is None:
            if not create:
                raise DayShreddedError(f"no key for {day}")
            row = _create(day)
        day_keys = _unwrap(row)
        self._days[day] = day_keys
        return day_keys

    def for_writing(self, day: datetime.date) -> "DayWriter":
        return DayWriter(day, self._get(day, create=True))

    def for_reading(self, day: datetime.date) -> "DayWriter":
        return DayWriter(day, self._get(day, create=False))


class DayWriter:
    """One day's sealing, index and visitor key, with a cache per distinct client in the batch."""

    def __init__(self, day: datetime.date, keys: _Day) -> None:
        self.day = day
        self._keys = keys
        self._day_ad = _STORE + b"\x1f" + day.isoformat().encode() + b"\x1f"
        self._ip_ad = self._day_ad + b"ip\x1f"
        self._agent_ad = self._day_ad + b"user_agent\x1f"

    @property
    def salted(self) -> bool:
        """Whether it holds the day's visitor salt (unwrapped while the day was open)."""
        return self._keys.salt is not None

    def ip_index(self, ip: str) -> str:
        return self._keys.index(ip.encode())[:16].hex()

    def visitor(self, ip: str, user_agent: str) -> str:
        if self._keys.salt is None:
            raise SaltDestroyedError(f"the visitor salt of {self.day} is destroyed")
        return self._keys.salt(f"{ip}\x1f{user_agent}".encode())[:16].hex()

    def client_key(self, ip: str, user_agent: str) -> str:
        """The key of the day's client (`DayClient.digest`): while the day's key lives, anyone holding
        it finds the same client again; once it is destroyed, nobody can."""
        return self._keys.client(f"{ip}\x1f{user_agent}".encode())[:16].hex()

    def client(self, ip: str, user_agent: str) -> tuple[bytes, bytes, str, str, str]:
        """(IP sealed, browser string sealed, IP index, visitor key or '' once the salt is gone, client
        key) of one client: what `seal`, `ip_index`, `visitor` and `client_key` give, in one call with
        one draw of randomness for both nonces, since the ingester makes it for every new client of a day."""
        keys = self._keys
        ip_index = keys.index(ip.encode())[:16].hex()
        message = f"{ip}\x1f{user_agent}".encode()
        visitor = keys.salt(message)[:16].hex() if keys.salt is not None else ""
        nonces = os.urandom(2 * crypto.NONCE_SIZE)
        ip_nonce, agent_nonce = nonces[: crypto.NONCE_SIZE], nonces[crypto.NONCE_SIZE :]
        index_ad = ip_index.encode()
        encrypt = keys.aead.encrypt
        return (
            keys.header + ip_nonce + encrypt(ip_nonce, ip.encode(), self._ip_ad + index_ad),
            keys.header + agent_nonce + encrypt(agent_nonce, user_agent.encode(), self._agent_ad + index_ad),
            ip_index,
            visitor,
            keys.client(message)[:16].hex(),
        )

    def seal(self, field: str, value: str, ip_index: str) -> bytes:
        return crypto.seal(self._keys.aead, self._keys.header, value, self._ad(field, ip_index))

    def unseal(self, field: str, blob: bytes | memoryview, ip_index: str) -> str:
        return crypto.unseal(self._keys.aead, bytes(blob), self._ad(field, ip_index))

    def _ad(self, field: str, ip_index: str) -> bytes:
        # Bound to the day and the row's IP index: a sealed value moved to another day or another
        # client's row fails authentication.
        return self._day_ad + field.encode() + b"\x1f" + ip_index.encode()


def _unwrap(row: DayKey) -> _Day:
    masters = crypto.master_keys()
    if row.master_key_id not in masters:
        raise crypto.VaultError(f"the day key of {row.day} is wrapped by an unknown master key {row.master_key_id}")
    master = masters[row.master_key_id]
    raw = crypto.unwrap(master, row.id, bytes(row.wrapped_key))
    salt = crypto.unwrap(master, row.salt_id, bytes(row.wrapped_salt)) if row.wrapped_salt is not None else None
    return _Day(
        aead=AESGCM(hmac.digest(raw, b"seal", hashlib.sha256)),
        header=crypto.header(row.id.bytes),
        index=KeyedHash(hmac.digest(raw, b"ip-index", hashlib.sha256)),
        client=KeyedHash(hmac.digest(raw, b"client", hashlib.sha256)),
        salt=KeyedHash(salt) if salt is not None else None,
    )


def _create(day: datetime.date) -> DayKey:
    master = crypto.current_master_key()
    key_id, salt_id = uuid.uuid4(), uuid.uuid4()
    row = DayKey(
        id=key_id,
        day=day,
        wrapped_key=crypto.wrap(master, key_id, crypto.new_data_key()),
        salt_id=salt_id,
        wrapped_salt=crypto.wrap(master, salt_id, os.urandom(32)),
        master_key_id=master.key_id,
    )
    try:
        with transaction.atomic(using=KEYSTORE):
            row.save(using=KEYSTORE, force_insert=True)
    except IntegrityError:
        # Another ingester created it first: use theirs.
        return DayKey.objects.using(KEYSTORE).get(day=day)
    return row


def rewrap(current: crypto.MasterKey, masters: dict[str, crypto.MasterKey]) -> int:
    """Re-wraps every day key (and its salt, while it lives) not yet under the current master key;
    returns how many days. Registered with the vault, so `raksa keys rotate` does it."""
    pending = DayKey.objects.using(KEYSTORE).exclude(master_key_id=current.key_id).order_by("day")
    unknown = set(pending.exclude(master_key_id__in=list(masters)).values_list("master_key_id", flat=True))
    if unknown:
        raise crypto.VaultError(
            f"access-log day keys are wrapped by master keys {sorted(unknown)}, which are not configured "
            "(RAKSA_PREVIOUS_MASTER_KEYS)"
        )
    rewrapped = 0
    with transaction.atomic(using=KEYSTORE):
        # Locked, so the salt of a day ending meanwhile is destroyed after this, not undone by it.
        for row in pending.select_for_update():
            old = masters[row.master_key_id]
            row.wrapped_key = crypto.wrap(current, row.id, crypto.unwrap(old, row.id, bytes(row.wrapped_key)))
            if row.wrapped_salt is not None:
                salt = crypto.unwrap(old, row.salt_id, bytes(row.wrapped_salt))
                row.wrapped_salt = crypto.wrap(current, row.salt_id, salt)
            row.master_key_id = current.key_id
            row.save(using=KEYSTORE, update_fields=["wrapped_key", "wrapped_salt", "master_key_id"])
            rewrapped += 1
    return rewrapped


def destroy_salts_before(day: datetime.date) -> list[datetime.date]:
    """Destroys the visitor salt of every day before `day`; returns those days."""
    days = list(
        DayKey.objects.using(KEYSTORE).filter(day__lt=day, wrapped_salt__isnull=False).values_list("day", flat=True)
    )
    DayKey.objects.using(KEYSTORE).filter(day__in=days).update(wrapped_salt=None)
    return days


def destroy_day_key(day: datetime.date) -> bool:
    """Crypto-shreds one day: every value sealed under its key becomes unreadable, backups included."""
    deleted, _ = DayKey.objects.using(KEYSTORE).filter(day=day).delete()
    return bool(deleted)


def days_with_keys() -> list[datetime.date]:
    return list(DayKey.objects.using(KEYSTORE).order_by("day").values_list("day", flat=True))


def days_not_closed(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    """The days in this range whose visitor salt still lives: today, and a past day until the follower
    closes it (`actions.destroy_past_salts`), whose roll-up lists are not compacted yet."""
    return list(
        DayKey.objects.using(KEYSTORE)
        .filter(day__gte=start, day__lte=end, wrapped_salt__isnull=False)
        .order_by("day")
        .values_list("day", flat=True)
    )
