"""`EncryptedField`: a model field whose column holds AES-256-GCM ciphertext, never plaintext.

On an instance the attribute is a `Sealed` value (or None). Assigning a `str` stores it sealed at
the next save, under the data key of the row's subject, controller and the field's retention class
(from its registry declaration). Querying by plaintext is refused: use a blind index
(`raksa.vault.find`). The model names its logical store (`vault_store`) and where its subject and
controller are (`vault_subject_field`, `vault_controller_field`), as `raksa.vault.models.VaultModel`
does; its primary key is a client-generated UUID, so the row ID is known before the first save.
"""

import uuid
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any

from django import forms
from django.core import checks
from django.db import models, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.query_utils import DeferredAttribute

from raksa.registry import registry
from raksa.vault import crypto, indexes
from raksa.vault.keys import key_for_sealing
from raksa.vault.sealed import PLACEHOLDER, Sealed

# Logical store name -> model, to refuse two models sharing one name.
STORES: dict[str, type[models.Model]] = {}


class SealedCharField(forms.CharField):
    """The form field of an EncryptedField. A form never shows a sealed value (not even its
    placeholder, which a save would then store): pass the opened text as the form's `initial`,
    e.g. `Form(instance=row, initial=opener.open_many([row], fields)[0])`."""

    def prepare_value(self, value: Any) -> Any:
        return "" if isinstance(value, Sealed) else super().prepare_value(value)


@dataclass(frozen=True, slots=True)
class RowContext:
    """What a row of a personal-data model binds its values to, and whose keys seal them."""

    store: str
    object_id: uuid.UUID
    subject_id: uuid.UUID
    controller_id: int


def row_context(instance: models.Model) -> RowContext:
    return RowContext(*_row(instance))


def _row(instance: models.Model) -> tuple[str, uuid.UUID, uuid.UUID, int]:
    plan = _plan(type(instance))
    object_id = instance.pk
    if type(object_id) is not uuid.UUID:
        raise crypto.VaultError(f"{instance._meta.label} needs a client-generated UUID primary key to seal values")
    subject_id = getattr(instance, plan.subject_attname)
    controller_id = getattr(instance, plan.controller_attname)
    if subject_id is None or controller_id is None:
        raise crypto.VaultError(f"{instance._meta.label} {object_id}: set its subject and controller before sealing")
    return plan.store, object_id, uuid.UUID(str(subject_id)), controller_id


@dataclass(frozen=True, slots=True)
class _ModelPlan:
    store: str
    subject_attname: str
    controller_attname: str


@cache
def _plan(model: type[models.Model]) -> _ModelPlan:
    """Where a model keeps what sealing needs (models do not change after start-up)."""
    return _ModelPlan(
        store=model.vault_store,  # type: ignore[attr-defined]
        subject_attname=_attname(model, model.vault_subject_field),  # type: ignore[attr-defined]
        controller_attname=_attname(model, model.vault_controller_field),  # type: ignore[attr-defined]
    )


def _attname(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field.attname


@dataclass(frozen=True, slots=True)
class _SealingRules:
    retention: str
    index_kind: str | None
    store: str
    ad_prefix: bytes
    pk_attname: str
    subject_attname: str
    controller_attname: str
    # Where the model's rows are written: sealing holds the subject in the transaction open there.
    database: str


_RAW = frozenset({bytes, memoryview})


class _SealedAttribute(DeferredAttribute):
    """Wraps the raw column bytes of an instance in a `Sealed` bound to its store, field and row."""

    def __get__(self, instance: Any, cls: Any = None) -> Any:
        if instance is None:
            return self
        values = instance.__dict__
        attname = self.field.attname
        value = values[attname] if attname in values else super().__get__(instance, cls)
        if type(value) in _RAW:
            # Kept flat: a list screen reads thousands of these per request.
            value = values[attname] = Sealed(bytes(value), instance.vault_store, attname, instance.pk)
        return value

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__[self.field.attname] = value


class EncryptedField(models.Field):
    """Personal data sealed by the vault. Declare it in the app's personal_data.py."""

    personal_data = True
    description = "Personal data sealed by the vault (AES-256-GCM)"
    descriptor_class = _SealedAttribute
    empty_values = [None, ""]

    def get_internal_type(self) -> str:
        return "BinaryField"

    def contribute_to_class(self, cls: type[models.Model], name: str, private_only: bool = False) -> None:
        super().contribute_to_class(cls, name, private_only)
        store = getattr(cls, "vault_store", None)
        if isinstance(store, str) and not cls._meta.abstract:
            STORES.setdefault(store, cls)

    def from_db_value(self, value: Any, expression: Any, connection: BaseDatabaseWrapper) -> bytes | None:
        return None if value is None else bytes(value)

    def to_python(self, value: Any) -> Any:
        return value

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = model_instance.__dict__.get(self.attname)
        if type(value) is str:
            value = self.seal(model_instance, value)
            model_instance.__dict__[self.attname] = value
        return value

    def seal(self, instance: models.Model, plaintext: str) -> Sealed:
        """Seals a new value for this field of this row (what saving an assigned str does)."""
        rules = self._sealing_rules
        values = instance.__dict__
        object_id = values.get(rules.pk_attname)
        subject_id = values.get(rules.subject_attname)
        controller_id = values.get(rules.controller_attname)
        if type(object_id) is not uuid.UUID or type(subject_id) is not uuid.UUID or controller_id is None:
            # Deferred or unusual values: the slow path, which explains what is missing.
            _, object_id, subject_id, controller_id = _row(instance)
        key = key_for_sealing(subject_id, controller_id, rules.retention, using=rules.database)
        ad = rules.ad_prefix + object_id.bytes
        digest: bytes | None = None
        previous: tuple[bytes, ...] = ()
        if rules.index_kind is not None:
            digest = indexes.digest(rules.index_kind, plaintext)
            previous = tuple(indexes.previous_digests(rules.index_kind, plaintext))
        blob = crypto.seal(key.aead, key.header, plaintext, ad)
        sealed = Sealed(blob, rules.store, self.name, object_id, digest, previous)
        sealed._ad = ad
        return sealed

    @cached_property
    def _sealing_rules(self) -> "_SealingRules":
        """What sealing this field needs from its declaration and model, worked out once."""
        declaration = registry.declaration(self.model, self.name)
        plan = _plan(self.model)
        return _SealingRules(
            retention=declaration.retention.code,
            index_kind=declaration.category.index if declaration.indexed else None,
            store=plan.store,
            ad_prefix=crypto.associated_data_prefix(plan.store, self.name),
            pk_attname=self.model._meta.pk.attname,
            subject_attname=plan.subject_attname,
            controller_attname=plan.controller_attname,
            database=router.db_for_write(self.model),
        )

    def get_prep_value(self, value: Any) -> Any:
        if isinstance(value, str):
            raise TypeError(
                f"{self.model._meta.label}.{self.name} is encrypted: it cannot be compared with plaintext "
                "(look values up with raksa.vault.find) or updated in bulk (assign and save each row)"
            )
        if isinstance(value, Sealed):
            return value.blob
        return value

    def get_db_prep_value(self, value: Any, connection: BaseDatabaseWrapper, prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        if isinstance(value, bytes | memoryview):
            return connection.Database.Binary(value)  # type: ignore[attr-defined]
        return value

    def value_to_string(self, obj: models.Model) -> str:
        # dumpdata and other serialisers see the placeholder: backups of the database carry the data.
        return PLACEHOLDER

    def formfield(self, **kwargs: Any) -> forms.Field:
        return SealedCharField(required=not self.blank, **kwargs)

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        return [*super().check(**kwargs), *self._check_model()]

    def _check_model(self) -> list[checks.CheckMessage]:
        model = self.model
        if model._meta.abstract:
            return []
        label = model._meta.label
        messages: list[checks.CheckMessage] = []
        store = getattr(model, "vault_store", None)
        if not isinstance(store, str) or not store:
            messages.append(
                checks.Error(f"{label} has encrypted fields but no vault_store name.", obj=self, id="vault.E001")
            )
        elif STORES.get(store, model) is not model:
            messages.append(
                checks.Error(
                    f"{label} uses the vault_store name {store!r} of {STORES[store]._meta.label}.",
                    obj=self,
                    id="vault.E002",
                )
            )
        pk = model._meta.pk
        if not isinstance(pk, models.UUIDField) or pk.default is models.NOT_PROVIDED:
            messages.append(
                checks.Error(
                    f"{label} has encrypted fields, so its primary key must be a UUIDField with a default.",
                    obj=self,
                    id="vault.E003",
                )
            )
        for attribute in ("vault_subject_field", "vault_controller_field"):
            name = getattr(model, attribute, None)
            try:
                model._meta.get_field(name or "")
            except Exception:
                messages.append(
                    checks.Error(
                        f"{label}.{attribute} must name a field of the model, not {name!r}.", obj=self, id="vault.E004"
                    )
                )
        if self.unique or getattr(self, "db_index", False):
            messages.append(
                checks.Error(
                    f"{label}.{self.name}: ciphertext cannot be unique or indexed; use a blind index.",
                    obj=self,
                    id="vault.E005",
                )
            )
        return messages
