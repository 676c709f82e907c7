"""What an encrypted field holds on a model instance: a sealed value, and the erased marker.

A `Sealed` carries ciphertext and the context bound into it, never plaintext, so printing,
logging, rendering, pickling or serialising it shows a placeholder. Only an `Opener`
(raksa.vault.openers) turns it back into text.
"""

import uuid
from typing import Any, ClassVar, Final, Self

from django.utils.translation import gettext

from raksa.vault import crypto
from raksa.vault.keys import key_by_id

PLACEHOLDER: Final = "[sealed]"


class Sealed:
    __slots__ = ("_ad", "blob", "field", "index_digest", "object_id", "previous_digests", "store")

    def __init__(
        self,
        blob: bytes,
        store: str,
        field: str,
        object_id: uuid.UUID,
        index_digest: bytes | None = None,
        previous_digests: tuple[bytes, ...] = (),
    ) -> None:
        self.blob = blob
        self.store = store
        self.field = field
        self.object_id = object_id
        # Set only on a value sealed in this process, so its blind index can be written (never stored).
        self.index_digest = index_digest
        # Its digests under index keys being rotated out: a unique value is checked against those too.
        self.previous_digests = previous_digests
        self._ad: bytes | None = None

    @property
    def key_id(self) -> bytes:
        return crypto.key_id_of(self.blob)

    @property
    def associated_data(self) -> bytes:
        ad = self._ad
        if ad is None:
            ad = self._ad = crypto.associated_data_prefix(self.store, self.field) + self.object_id.bytes
        return ad

    @property
    def is_erased(self) -> bool:
        """True once the data key that sealed this value has been destroyed."""
        return key_by_id(self.key_id) is None

    def __str__(self) -> str:
        return PLACEHOLDER

    def __repr__(self) -> str:
        return f"<Sealed {self.store}.{self.field}>"

    def __format__(self, spec: str) -> str:
        return PLACEHOLDER

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sealed) and other.blob == self.blob

    def __hash__(self) -> int:
        return hash(self.blob)

    def __reduce__(self) -> tuple[Any, ...]:
        # Ciphertext and context only: a pickled instance (cache, session) carries no plaintext.
        return (_restore, (self.blob, self.store, self.field, self.object_id))


def _restore(blob: bytes, store: str, field: str, object_id: uuid.UUID) -> Sealed:
    return Sealed(blob, store=store, field=field, object_id=object_id)


class _Marker:
    """A value that stands for one that cannot be shown: one instance per kind, false, pickled by name."""

    _instance: "_Marker | None" = None
    name: ClassVar[str]

    def __new__(cls) -> Self:
        if not isinstance(cls._instance, cls):
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return self.name

    def __reduce__(self) -> str:
        return self.name


class Erased(_Marker):
    """What opening a value gives once its key is destroyed: shown as "erased", false in tests."""

    name = "ERASED"

    def __str__(self) -> str:
        return gettext("erased")


ERASED: Final = Erased()


class Withheld(_Marker):
    """What the staff gateway gives instead of a value the person restricted or objected to processing for
    this purpose (PDPA s32, s34): shown as such, false like an erased value."""

    name = "WITHHELD"

    def __str__(self) -> str:
        return gettext("withheld: the person restricted this processing")


WITHHELD: Final = Withheld()

type Opened = str | Erased | Withheld | None
