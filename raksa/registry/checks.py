"""System checks that keep the models and the personal-data registry in step (DESIGN.md decision 5).

registry.E001  an encrypted (personal-data) field that is not declared
registry.E002  a field whose name looks personal, neither declared nor marked not personal
registry.E003  a model holding personal data registered in Django's admin (its LogEntry keeps plaintext)
registry.E004  a declaration or not-personal mark naming a model that does not exist
registry.E005  a declaration or not-personal mark naming a field that the model does not have
registry.E006  a declared field kept in a plaintext column without saying why (`plaintext=`)
"""

import re
from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.apps.config import AppConfig
from django.contrib.admin.sites import AdminSite, all_sites
from django.core.checks import CheckMessage, Error, register
from django.db.models import Field, Model

from raksa.registry.declarations import Registry, registry

# Field names that usually hold personal data; matched as whole words of a snake_case name.
_PERSONAL_WORDS = (
    "e?mail",
    "email_address",
    "phone",
    "mobile",
    "tel",
    "telephone",
    "fax",
    "address",
    "addr",
    "national_id",
    "citizen_id",
    "id_card",
    "id_number",
    "passport",
    "first_name",
    "last_name",
    "full_name",
    "given_name",
    "family_name",
    "middle_name",
    "surname",
    "nickname",
    "birth",
    "birthday",
    "birth_date",
    "date_of_birth",
    "dob",
    "age",
    "gender",
    "sex",
    "ip",
    "ip_address",
    "remote_addr",
    "user_agent",
    "browser",
    "referr?er",
    "workplace",
    "employer",
    "occupation",
    "religion",
    "health",
    "disability",
    "ethnicity",
    "nationality",
)
_PERSONAL_NAME = re.compile(rf"(?:^|_)(?:{'|'.join(_PERSONAL_WORDS)})(?:_|$)")


def looks_personal(field_name: str) -> bool:
    return _PERSONAL_NAME.search(field_name.lower()) is not None


def holds_personal_data(field: Field) -> bool:
    """Vault fields say so themselves (raksa.vault.fields.EncryptedField.personal_data)."""
    return bool(getattr(field, "personal_data", False))


@register("registry")
def check_personal_data(app_configs: Iterable[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    if app_configs is None:
        models = list(apps.get_models())
        app_labels = None
    else:
        app_configs = list(app_configs)
        models = [model for config in app_configs for model in config.get_models()]
        app_labels = {config.label for config in app_configs}
    return check_models(models, registry=registry, admin_sites=list(all_sites), app_labels=app_labels)


def check_models(
    models: Iterable[type[Model]],
    *,
    registry: Registry,
    admin_sites: Iterable[AdminSite] = (),
    app_labels: set[str] | None = None,
) -> list[CheckMessage]:
    """The registry's checks over these models; `app_labels` limits the declarations looked at."""
    messages: list[CheckMessage] = []
    by_label: dict[str, type[Model]] = {}
    for model in models:
        if model._meta.proxy:
            continue
        by_label[model._meta.label_lower] = model
        for field in model._meta.local_concrete_fields:
            messages += _check_field(model, field, registry)
    messages += _check_declarations(by_label, registry, app_labels)
    for site in admin_sites:
        for model in site._registry:
            if model._meta.label_lower in by_label and _is_personal_model(model, registry):
                messages.append(
                    Error(
                        f"{model._meta.label} holds personal data and is registered in the admin site {site.name!r}.",
                        hint="The admin is for content and configuration; its change log would keep plaintext.",
                        obj=model,
                        id="registry.E003",
                    )
                )
    return messages


def _check_field(model: type[Model], field: Field, registry: Registry) -> list[CheckMessage]:
    name = field.name
    if registry.is_declared(model, name):
        declaration = registry.declaration(model, name)
        if not holds_personal_data(field) and not declaration.plaintext:
            return [
                Error(
                    f"{model._meta.label}.{name} is declared personal data but kept in a plaintext column.",
                    hint="Make it a raksa.vault EncryptedField, or say why it must stay plain with plaintext=...",
                    obj=field,
                    id="registry.E006",
                )
            ]
        return []
    if holds_personal_data(field):
        return [
            Error(
                f"{model._meta.label}.{name} is an encrypted personal-data field without a declaration.",
                hint=f"Declare it in {model._meta.app_config.name}.personal_data with declare(...).",
                obj=field,
                id="registry.E001",
            )
        ]
    if looks_personal(name) and registry.not_personal_reason(model, name) is None:
        return [
            Error(
                f"{model._meta.label}.{name} looks like personal data but is not declared.",
                hint=(
                    f"Declare it in {model._meta.app_config.name}.personal_data with declare(...), "
                    "or mark it with not_personal(..., reason=...) if it holds none."
                ),
                obj=field,
                id="registry.E002",
            )
        ]
    return []


def _check_declarations(
    by_label: dict[str, type[Model]], registry: Registry, app_labels: set[str] | None
) -> list[CheckMessage]:
    named = [(d.model, d.field) for d in registry.declarations()] + list(registry.not_personal_fields())
    messages: list[CheckMessage] = []
    for model_name, field_name in named:
        label = model_name.lower()
        if app_labels is not None and label.partition(".")[0] not in app_labels:
            continue
        model = by_label.get(label)
        if model is None:
            messages.append(
                Error(
                    f"The personal-data registry names {model_name}, which is not an installed model.",
                    id="registry.E004",
                )
            )
            continue
        if field_name not in {field.name for field in model._meta.concrete_fields}:
            messages.append(
                Error(
                    f"The personal-data registry names {model._meta.label}.{field_name}, which does not exist.",
                    obj=model,
                    id="registry.E005",
                )
            )
    return messages


def _is_personal_model(model: type[Model], registry: Registry) -> bool:
    return bool(registry.declarations_for(model)) or any(
        holds_personal_data(field) for field in model._meta.concrete_fields
    )
