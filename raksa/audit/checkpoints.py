"""Signed checkpoints: Ed25519 over (sequence, hash, time), kept in the database and in a file outside it.

The file (RAKSA_AUDIT_CHECKPOINT_FILE, JSON lines) is what the operator keeps away from the
database: someone able to rewrite the whole table and its checkpoints still cannot make the history
match a copy of that file they do not hold.
"""

import base64
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from raksa.audit.chain import DATABASE, chain_end
from raksa.audit.models import AuditCheckpoint


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def signing_key() -> Ed25519PrivateKey:
    seed = _b64decode(settings.RAKSA_AUDIT_SIGNING_KEY)
    if len(seed) != 32:
        raise ValueError("RAKSA_AUDIT_SIGNING_KEY must be base64url of a 32-byte Ed25519 seed")
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_text(key: Ed25519PrivateKey | None = None) -> str:
    return _b64encode((key or signing_key()).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


@dataclass(frozen=True)
class Checkpoint:
    sequence: int
    hash: str
    time: str  # UTC, ISO-8601 with microseconds and a Z
    public_key: str
    signature: str
    source: str = "the database"

    def message(self) -> bytes:
        return f"raksa-audit-checkpoint/1\n{self.sequence}\n{self.hash}\n{self.time}".encode()

    def signed_by(self, trusted_keys: set[str]) -> bool:
        if self.public_key not in trusted_keys:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(_b64decode(self.public_key)).verify(
                _b64decode(self.signature), self.message()
            )
        except (InvalidSignature, ValueError):
            return False
        return True

    def as_json(self) -> str:
        return json.dumps(
            {
                "sequence": self.sequence,
                "hash": self.hash,
                "time": self.time,
                "public_key": self.public_key,
                "signature": self.signature,
            },
            separators=(",", ":"),
        )


def _time_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def write_checkpoint(*, file: Path | None = None) -> Checkpoint | None:
    """Sign the chain's end, store it and append it to the checkpoint file; None when nothing is chained.

    The file is appended (and flushed to disk) after the database row commits; if that fails this
    raises, and the next checkpoint writes a fresh line.
    """
    end = chain_end()
    if end is None:
        return None
    key = signing_key()
    unsigned = Checkpoint(end.sequence, end.hash, _time_text(timezone.now()), public_key_text(key), "")
    checkpoint = Checkpoint(**{**unsigned.__dict__, "signature": _b64encode(key.sign(unsigned.message()))})
    with transaction.atomic(using=DATABASE):
        _row, created = AuditCheckpoint.objects.using(DATABASE).get_or_create(
            sequence=checkpoint.sequence,
            defaults={
                "hash": checkpoint.hash,
                "time": datetime.fromisoformat(checkpoint.time),
                "public_key": checkpoint.public_key,
                "signature": checkpoint.signature,
            },
        )
    if not created:
        return stored_checkpoints()[-1]
    path = file or settings.RAKSA_AUDIT_CHECKPOINT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as out:
        out.write(checkpoint.as_json() + "\n")
        out.flush()
        os.fsync(out.fileno())
    return checkpoint


def stored_checkpoints() -> list[Checkpoint]:
    return [
        Checkpoint(row.sequence, row.hash, _time_text(row.time), row.public_key, row.signature)
        for row in AuditCheckpoint.objects.using(DATABASE).order_by("sequence")
    ]


def file_checkpoints(path: Path) -> list[Checkpoint]:
    """The checkpoints in a file the operator kept; raises ValueError on a line that is not one."""
    checkpoints = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            checkpoints.append(
                Checkpoint(
                    int(data["sequence"]),
                    str(data["hash"]),
                    str(data["time"]),
                    str(data["public_key"]),
                    str(data["signature"]),
                    source=f"{path}:{number}",
                )
            )
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{path}:{number} is not a checkpoint ({error})") from None
    return checkpoints
