"""Blind indexes: exact-match look-ups of encrypted values without decrypting anything.

A digest is HMAC-SHA256 (its 32 bytes) under RAKSA_INDEX_KEY of the kind and the normalised value: e-mail
trimmed and lower-cased; a Thai national ID as its 13 digits; a phone number in E.164 (region TH).
The rows live in the key store beside the data keys and are deleted when a subject is erased.

A new index key is rolled in by `raksa keys rotate-index` (`raksa.vault.actions.rotate_index_key`):
until it has recomputed every row, the old key stays in RAKSA_PREVIOUS_INDEX_KEYS and look-ups try
the digests under every key. Each row names the key its digest was made with (`key_id`, a
fingerprint, not the key), which is what lets the rotation resume where it stopped.
"""

import base64
import hashlib
import hmac
import unicodedata
import uuid
from dataclasses import dataclass
from functools import cache

import phonenumbers
from django.conf import settings

from raksa.vault.models import BlindIndex
from raksa.vault.routers import KEYSTORE

KINDS = ("email", "national_id", "phone")


def normalise(kind: str, value: str) -> str:
    """The canonical form of a value of this kind; ValueError if it cannot be one."""
    if kind == "email":
        return unicodedata.normalize("NFKC", value).strip().lower()
    if kind == "national_id":
        # Thai digits count as digits too; separators and spaces do not.
        digits = "".join(str(unicodedata.decimal(char)) for char in value if char.isdecimal())
        if len(digits) != 13:
            raise ValueError("a Thai national ID number has 13 digits")
        return digits
    if kind == "phone":
        try:
            number = phonenumbers.parse(value, "TH")
        except phonenumbers.NumberParseException:
            raise ValueError("not a phone number") from None
        if not phonenumbers.is_possible_number(number):
            raise ValueError("not a possible phone number")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise ValueError(f"unknown blind index kind {kind!r}")


@cache
def _index_key(encoded: str) -> bytes:
    return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))


@cache
def key_id(encoded: str) -> str:
    """A fingerprint of an index key that tells keys apart and reveals nothing of them."""
    return hmac.new(_index_key(encoded), b"raksa blind index key id", hashlib.sha256).hexdigest()[:16]


def current_key_id() -> str:
    return key_id(settings.RAKSA_INDEX_KEY)


def digest(kind: str | None, value: str) -> bytes:
    """The digest under the current index key (what is written)."""
    return _digest(settings.RAKSA_INDEX_KEY, kind, value)


def previous_digests(kind: str | None, value: str) -> list[bytes]:
    """The digests under the index keys being rotated out (empty once a rotation is over)."""
    return [_digest(encoded, kind, value) for encoded in settings.RAKSA_PREVIOUS_INDEX_KEYS]


def _digest(encoded: str, kind: str | None, value: str) -> bytes:
    if kind is None:
        raise ValueError("no blind index kind")
    return hmac.new(_index_key(encoded), f"{kind}\x00{normalise(kind, value)}".encode(), hashlib.sha256).digest()


@dataclass(frozen=True)
class Match:
    subject_id: uuid.UUID
    controller_id: int
    store: str
    field: str
    object_id: uuid.UUID


def find(kind: str, value: str) -> list[Match]:
    """Every stored value of this kind equal to `value` once normalised (none if it is not valid)."""
    try:
        wanted = [digest(kind, value), *previous_digests(kind, value)]
    except ValueError:
        return []
    rows = (
        BlindIndex.objects.using(KEYSTORE).filter(kind=kind, digest__in=wanted).order_by("store", "object_id", "field")
    )
    return [
        Match(
            subject_id=row.subject_id,
            controller_id=row.controller_id,
            store=row.store,
            field=row.field,
            object_id=row.object_id,
        )
        for row in rows
    ]
