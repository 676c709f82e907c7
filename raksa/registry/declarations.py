"""The registry of personal data: which model field holds what, why, on what basis, for how long.

Each app declares its fields in `raksa/<app>/personal_data.py`, imported when the registry app is
ready::

    from raksa.registry import CONTACT, EMAIL, PUBLIC_TASK, SERVICE_DELIVERY, declare

    declare("accounts.Contact", "email", category=EMAIL, purposes=[SERVICE_DELIVERY, CONTACT],
            legal_basis=PUBLIC_TASK, indexed=True)

`retention` defaults to the category's default retention class. A field that must stay in a
plaintext column says why (`plaintext="..."`); every other declared field is an encrypted vault
field. A field whose name looks personal but is not (an organisation's published e-mail) is marked
with `not_personal(model, *fields, reason=...)`. The system checks in raksa/registry/checks.py keep
models and declarations in step.

Later features ask the registry, never the models: `stores()` (every model holding personal data,
with its declarations), `declarations_for(model)`, `declaration(model, field)`, `declarations_in(...)`,
`categories()`, `purposes()`, `usable_purpose(code)`, `legal_bases()`, `retention_classes()`.
Models are named by their label ("app_label.ModelName", any case) or passed as classes.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model

from raksa.registry.catalogue import (
    CATEGORIES,
    LEGAL_BASES,
    PURPOSES,
    RETENTION_CLASSES,
    SENSITIVE_BASES,
    Category,
    LegalBasis,
    Purpose,
    RetentionClass,
)

type ModelRef = str | type[Model] | Model


class PurposeRefusedError(ValueError):
    """Raised when anything asks to process personal data for a refused purpose (marketing, D2)."""


def model_label(model: ModelRef) -> str:
    """The lower-case label ("app_label.modelname") that identifies a model in the registry."""
    if isinstance(model, str):
        return model.lower()
    return model._meta.label_lower


@dataclass(frozen=True)
class Declaration:
    """One model field that holds personal data."""

    model: str  # the label as declared, e.g. "accounts.Contact"
    field: str
    category: Category
    purposes: tuple[Purpose, ...]
    legal_basis: LegalBasis
    retention: RetentionClass
    # Keep a blind index (raksa.vault.indexes) for exact-match look-ups of this field.
    indexed: bool = False
    # No two rows of this field may hold the same (normalised) value: the key store's index refuses it.
    unique: bool = False
    # Why the field stays in a plaintext column; empty for vault-encrypted fields.
    plaintext: str = ""

    @property
    def label_lower(self) -> str:
        return self.model.lower()

    @property
    def sensitive(self) -> bool:
        return self.category.sensitive

    def model_class(self) -> type[Model]:
        return apps.get_model(self.model)


@dataclass(frozen=True)
class Store:
    """A model that holds personal data, with the declarations of its fields."""

    model: str
    declarations: tuple[Declaration, ...]

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(declaration.field for declaration in self.declarations)

    def model_class(self) -> type[Model]:
        return apps.get_model(self.model)


class Registry:
    """Categories, purposes, legal bases, retention classes and the field declarations.

    There is one for the site (`raksa.registry.registry`); tests build their own.
    """

    def __init__(
        self,
        *,
        categories: Iterable[Category] = CATEGORIES,
        purposes: Iterable[Purpose] = PURPOSES,
        legal_bases: Iterable[LegalBasis] = LEGAL_BASES,
        retention_classes: Iterable[RetentionClass] = RETENTION_CLASSES,
    ) -> None:
        self._categories = {category.code: category for category in categories}
        self._purposes = {purpose.code: purpose for purpose in purposes}
        self._legal_bases = {basis.code: basis for basis in legal_bases}
        self._retention_classes = {retention.code: retention for retention in retention_classes}
        self._declarations: dict[str, dict[str, Declaration]] = {}
        self._not_personal: dict[str, dict[str, str]] = {}

    # Declaring -----------------------------------------------------------------------------------
    def declare(
        self,
        model: str,
        field: str,
        *,
        category: Category,
        purposes: Iterable[Purpose],
        legal_basis: LegalBasis,
        retention: RetentionClass | None = None,
        indexed: bool = False,
        unique: bool = False,
        plaintext: str = "",
    ) -> Declaration:
        where = f"{model}.{field}"
        self._require(self._categories, category, "category", where)
        self._require(self._legal_bases, legal_basis, "legal basis", where)
        purposes = tuple(purposes)
        if not purposes:
            raise ImproperlyConfigured(f"{where}: a declaration needs at least one purpose")
        for purpose in purposes:
            self._require(self._purposes, purpose, "purpose", where)
            if purpose.refused:
                raise PurposeRefusedError(f"{where}: the purpose {purpose.code!r} is refused (D2)")
        retention = retention or category.default_retention
        if retention is None:
            raise ImproperlyConfigured(f"{where}: the category {category.code!r} has no default retention; give one")
        self._require(self._retention_classes, retention, "retention class", where)
        if category.sensitive and legal_basis not in SENSITIVE_BASES:
            raise ImproperlyConfigured(
                f"{where}: {category.code!r} is sensitive (PDPA s26) and needs explicit consent, "
                f"a vital interest or a law, not {legal_basis.code!r}"
            )
        if indexed and category.index is None:
            raise ImproperlyConfigured(f"{where}: the category {category.code!r} has no blind index kind")
        if indexed and plaintext:
            raise ImproperlyConfigured(f"{where}: a blind index is only for encrypted fields")
        if unique and not indexed:
            raise ImproperlyConfigured(f"{where}: uniqueness is kept by the blind index: declare it indexed")
        label = model_label(model)
        if field in self._declarations.get(label, {}):
            raise ImproperlyConfigured(f"{where} is declared twice")
        if field in self._not_personal.get(label, {}):
            raise ImproperlyConfigured(f"{where} is both declared and marked not personal")
        declaration = Declaration(
            model=model,
            field=field,
            category=category,
            purposes=purposes,
            legal_basis=legal_basis,
            retention=retention,
            indexed=indexed,
            unique=unique,
            plaintext=plaintext,
        )
        self._declarations.setdefault(label, {})[field] = declaration
        return declaration

    def not_personal(self, model: str, *fields: str, reason: str) -> None:
        """Marks fields whose names look personal but hold no personal data, and says why."""
        if not reason:
            raise ImproperlyConfigured(f"{model}: say why {', '.join(fields)} hold no personal data")
        label = model_label(model)
        for field in fields:
            if field in self._declarations.get(label, {}):
                raise ImproperlyConfigured(f"{model}.{field} is both declared and marked not personal")
            self._not_personal.setdefault(label, {})[field] = reason

    def register_purpose(self, purpose: Purpose) -> Purpose:
        """Adds a purpose a service needs. Codes are permanent: one code, one meaning."""
        existing = self._purposes.get(purpose.code)
        if existing is not None and existing != purpose:
            raise ImproperlyConfigured(f"the purpose {purpose.code!r} is already registered differently")
        self._purposes[purpose.code] = purpose
        return purpose

    @contextmanager
    def overlay(self) -> Iterator[None]:
        """Declarations and purposes added inside the block are forgotten at its end.

        For tests' own models: the site's registry stays exactly what its apps declare.
        """
        saved = (
            dict(self._purposes),
            {label: dict(fields) for label, fields in self._declarations.items()},
            {label: dict(fields) for label, fields in self._not_personal.items()},
        )
        try:
            yield
        finally:
            self._purposes, self._declarations, self._not_personal = saved

    @staticmethod
    def _require(known: dict, item: Category | Purpose | LegalBasis | RetentionClass, kind: str, where: str) -> None:
        if known.get(item.code) != item:
            raise ImproperlyConfigured(f"{where}: unknown {kind} {item.code!r}")

    # Asking --------------------------------------------------------------------------------------
    def categories(self) -> tuple[Category, ...]:
        return tuple(self._categories.values())

    def category(self, code: str) -> Category:
        return self._categories[code]

    def purposes(self) -> tuple[Purpose, ...]:
        """Every purpose, the refused ones too (the policy names them to say they are refused)."""
        return tuple(self._purposes.values())

    def purpose(self, code: str) -> Purpose:
        return self._purposes[code]

    def usable_purpose(self, code: str) -> Purpose:
        """The purpose with this code, or PurposeRefusedError if it is refused (D2). Raises KeyError if unknown."""
        purpose = self._purposes[code]
        if purpose.refused:
            raise PurposeRefusedError(f"the purpose {code!r} is refused")
        return purpose

    def legal_bases(self) -> tuple[LegalBasis, ...]:
        return tuple(self._legal_bases.values())

    def legal_basis(self, code: str) -> LegalBasis:
        return self._legal_bases[code]

    def retention_classes(self) -> tuple[RetentionClass, ...]:
        return tuple(self._retention_classes.values())

    def retention_class(self, code: str) -> RetentionClass:
        return self._retention_classes[code]

    def declarations(self) -> tuple[Declaration, ...]:
        return tuple(d for fields in self._declarations.values() for d in fields.values())

    def declarations_for(self, model: ModelRef) -> tuple[Declaration, ...]:
        return tuple(self._declarations.get(model_label(model), {}).values())

    def declaration(self, model: ModelRef, field: str) -> Declaration:
        """The declaration of one field; LookupError if it is not declared."""
        try:
            return self._declarations[model_label(model)][field]
        except KeyError:
            raise LookupError(f"{model_label(model)}.{field} is not declared as personal data") from None

    def is_declared(self, model: ModelRef, field: str) -> bool:
        return field in self._declarations.get(model_label(model), {})

    def not_personal_reason(self, model: ModelRef, field: str) -> str | None:
        return self._not_personal.get(model_label(model), {}).get(field)

    def not_personal_fields(self) -> tuple[tuple[str, str], ...]:
        """(model label, field) of every field marked not personal."""
        return tuple((label, field) for label, fields in self._not_personal.items() for field in fields)

    def stores(self) -> tuple[Store, ...]:
        """Every model that holds personal data, in declaration order."""
        return tuple(
            Store(model=next(iter(fields.values())).model, declarations=tuple(fields.values()))
            for fields in self._declarations.values()
            if fields
        )

    def declarations_in(
        self,
        *,
        category: Category | None = None,
        purpose: Purpose | None = None,
        retention: RetentionClass | None = None,
    ) -> tuple[Declaration, ...]:
        """The declarations with this category, purpose and/or retention class."""
        return tuple(
            d
            for d in self.declarations()
            if (category is None or d.category == category)
            and (purpose is None or purpose in d.purposes)
            and (retention is None or d.retention == retention)
        )


registry = Registry()
