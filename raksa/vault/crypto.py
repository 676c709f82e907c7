"""The vault's cryptography: AES-256-GCM for values and for wrapping data keys.

A sealed value is `version (1) | data-key ID (16) | nonce (12) | ciphertext and tag`. Its associated
data binds it to the logical store, the field and the row's UUID, so a ciphertext copied to another
row or field fails authentication (and so does any flipped byte) instead of decrypting to garbage.

A data key is wrapped as `nonce (12) | AES-GCM(master key, data key, AD = its own key ID)`, so a
wrapped key copied onto another key's row does not unwrap either.
"""

import base64
import binascii
import os
import uuid
from dataclasses import dataclass
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

VERSION = 1
VERSION_BYTE = bytes([VERSION])
KEY_ID_SIZE = 16
NONCE_SIZE = 12
HEADER_SIZE = 1 + KEY_ID_SIZE + NONCE_SIZE
WRAP_CONTEXT = b"raksa/vault/data-key/v1:"


class VaultError(Exception):
    """Base of the vault's errors. Messages never carry personal values."""


class TamperedError(VaultError):
    """A sealed value or a wrapped key failed authentication: edited, truncated, copied or moved."""


@dataclass(frozen=True)
class MasterKey:
    key_id: str
    aead: AESGCM

    def __repr__(self) -> str:
        return f"<MasterKey {self.key_id}>"


@cache
def parse_master_key(text: str) -> MasterKey:
    """`KEYID:base64url(32 bytes)`, as `raksa keys generate` prints it."""
    key_id, sep, encoded = text.strip().partition(":")
    if not sep or not key_id:
        raise ImproperlyConfigured("a master key must look like KEYID:base64url(32 bytes)")
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured(f"the master key {key_id!r} is not base64url") from None
    if len(raw) != 32:
        raise ImproperlyConfigured(f"the master key {key_id!r} must be 32 bytes, not {len(raw)}")
    return MasterKey(key_id=key_id, aead=AESGCM(raw))


def current_master_key() -> MasterKey:
    return parse_master_key(settings.RAKSA_MASTER_KEY)


def master_keys() -> dict[str, MasterKey]:
    """Every master key that may unwrap a data key: the current one and those being rotated away."""
    keys = {key.key_id: key for key in map(parse_master_key, settings.RAKSA_PREVIOUS_MASTER_KEYS)}
    current = current_master_key()
    keys[current.key_id] = current
    return keys


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def wrap(master: MasterKey, key_id: uuid.UUID, raw: bytes) -> bytes:
    nonce = os.urandom(NONCE_SIZE)
    return nonce + master.aead.encrypt(nonce, raw, WRAP_CONTEXT + key_id.bytes)


def unwrap(master: MasterKey, key_id: uuid.UUID | bytes, wrapped: bytes) -> bytes:
    """The raw key; `key_id` as a UUID or its 16 bytes (a list screen's keys arrive as bytes)."""
    key_bytes = key_id if type(key_id) is bytes else key_id.bytes  # type: ignore[union-attr]
    try:
        return master.aead.decrypt(wrapped[:NONCE_SIZE], wrapped[NONCE_SIZE:], WRAP_CONTEXT + key_bytes)
    except InvalidTag:
        raise TamperedError(
            f"the data key {uuid.UUID(bytes=key_bytes)} does not unwrap under master key {master.key_id}"
        ) from None


@cache
def associated_data_prefix(store: str, field: str) -> bytes:
    return f"{store}\x1f{field}\x1f".encode()


def associated_data(store: str, field: str, object_id: uuid.UUID) -> bytes:
    """What a ciphertext is bound to: its logical store, its field and its row's UUID."""
    return associated_data_prefix(store, field) + object_id.bytes


def header(key_id: bytes) -> bytes:
    """The start of every value sealed under this data key."""
    return VERSION_BYTE + key_id


def seal(aead: AESGCM, header: bytes, plaintext: str, ad: bytes) -> bytes:
    nonce = os.urandom(NONCE_SIZE)
    return header + nonce + aead.encrypt(nonce, plaintext.encode(), ad)


def key_id_of(blob: bytes) -> bytes:
    """The 16-byte ID of the data key that sealed this value."""
    if len(blob) < HEADER_SIZE + 16 or blob[0] != VERSION:
        raise TamperedError("a sealed value is truncated or of an unknown version")
    return blob[1 : 1 + KEY_ID_SIZE]


def unseal(aead: AESGCM, blob: bytes, ad: bytes) -> str:
    try:
        return aead.decrypt(blob[1 + KEY_ID_SIZE : HEADER_SIZE], blob[HEADER_SIZE:], ad).decode()
    except InvalidTag:
        raise TamperedError(
            "a sealed value failed authentication (tampered, or copied from another row or field)"
        ) from None
