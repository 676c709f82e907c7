"""Keys for development: generated once and kept under var/, never used in production."""

import base64
import secrets
from datetime import UTC, datetime
from pathlib import Path

KEY_NAMES = ("RAKSA_SECRET_KEY", "RAKSA_MASTER_KEY", "RAKSA_INDEX_KEY", "RAKSA_AUDIT_SIGNING_KEY")


def _random_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def generate_keys() -> dict[str, str]:
    """A fresh, complete set of keys, as operators receive them from `raksa keys generate`."""
    key_id = datetime.now(UTC).strftime("m%Y%m%d%H%M%S")
    return {
        "RAKSA_SECRET_KEY": secrets.token_urlsafe(50),
        "RAKSA_MASTER_KEY": f"{key_id}:{_random_key()}",
        "RAKSA_INDEX_KEY": _random_key(),
        "RAKSA_AUDIT_SIGNING_KEY": _random_key(),
    }


def load_or_create(path: Path) -> dict[str, str]:
    keys: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            name, sep, value = line.partition("=")
            if sep and name in KEY_NAMES:
                keys[name] = value
    missing = {name: value for name, value in generate_keys().items() if name not in keys}
    if missing:
        keys.update(missing)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{name}={keys[name]}\n" for name in KEY_NAMES))
        path.chmod(0o600)
    return keys
