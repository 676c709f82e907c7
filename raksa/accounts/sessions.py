"""Django's database session store, with each session filed under its account.

Settings: SESSION_ENGINE = "raksa.accounts.sessions". The account, the browser summary and the
times are kept in the session's own data (so Django's key rotation carries them) and copied into
columns at every save, so a person's sessions can be listed and ended without decoding any.
"""

from datetime import UTC, datetime
from typing import Any

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.db import SessionStore as DatabaseStore
from django.utils.crypto import get_random_string

# Keys inside the session data (Django's own start with "_auth"; these are Raksa's).
STARTED = "_raksa_started"
SEEN = "_raksa_seen"
STAFF = "_raksa_staff"
BROWSER = "_raksa_browser"
PLATFORM = "_raksa_platform"
DEVICE = "_raksa_device"


def _moment(data: dict[str, Any], key: str) -> datetime | None:
    value = data.get(key)
    return datetime.fromtimestamp(value, tz=UTC) if isinstance(value, int | float) else None


class SessionStore(DatabaseStore):
    @classmethod
    def get_model_class(cls) -> type:
        from raksa.accounts.models import Session

        return Session

    def create_model_instance(self, data: dict[str, Any]) -> Any:
        session: Any = super().create_model_instance(data)
        session.user_id = data.get(SESSION_KEY)
        session.browser = data.get(BROWSER, "")
        session.platform = data.get(PLATFORM, "")
        session.device = data.get(DEVICE, "")
        session.started_at = _moment(data, STARTED)
        session.last_seen = _moment(data, SEEN)
        return session

    def cycle_key(self) -> None:
        """A new key for the same data (at log-in), written once, by the response's save.

        Django's own writes a row at once and the same row again when the response is saved: a
        log-in would pay a second write (on SQLite, a second turn at the one write lock).
        """
        data = dict(self.items())
        key = self.session_key
        self._session_key = None
        self._session_cache = data
        self.modified = True
        if key:
            self.delete(key)

    def _get_new_session_key(self) -> str:
        # 165 random bits: not worth a query to ask whether the key is taken. If it were, the
        # INSERT would fail and create() would draw another.
        return get_random_string(32, VALID_KEY_CHARS)
