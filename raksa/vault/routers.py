"""Sends the vault's key tables to the separate key-store database, and nothing else there."""

from typing import Any

from django.db.models import Model

KEYSTORE = "keystore"
# (app_label, model_name) of the tables that live in the key store.
KEYSTORE_MODELS: set[tuple[str, str]] = set()


def _in_keystore(model: type[Model]) -> bool:
    return (model._meta.app_label, model._meta.model_name) in KEYSTORE_MODELS


class KeystoreRouter:
    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        return KEYSTORE if _in_keystore(model) else None

    def db_for_write(self, model: type[Model], **hints: Any) -> str | None:
        return KEYSTORE if _in_keystore(model) else None

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool | None:
        return None

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool | None:
        if model_name is None:
            # RunSQL/RunPython operations: they say where they belong through hints.
            return hints.get("target_db", "default") == db
        return ((app_label, model_name) in KEYSTORE_MODELS) == (db == KEYSTORE)
