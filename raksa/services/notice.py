"""The notice at collection (PDPA s23), generated from a service's declaration, never hand-written.

`build(service)` turns the service's fields, the registry's labels, the retention, the recipients,
the DPO's contact and the policy in force into plain data in Thai and English. Its digest names the
version: `raksa.services.actions.current_notice` stores each new one once, and each registration
points to the version the person was shown.
"""

import hashlib
import json
from typing import Any

from django.apps import apps
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from raksa.registry import registry
from raksa.services.models import Service, ServiceField
from raksa.services.processing import fields_in_force


def build(service: Service, in_force: list[ServiceField] | None = None) -> dict[str, Any]:
    """The notice's content; `in_force` is the service's fields in force when the caller has them
    already (reading them again costs the policy's coverage a second time)."""
    agency = service.agency
    controller = agency.controller
    fields = []
    for field in fields_in_force(list(service.fields.all())) if in_force is None else in_force:
        category = registry.category(field.category)
        purpose = registry.purpose(field.purpose)
        basis = registry.legal_basis(field.legal_basis)
        fields.append(
            {
                "category": category.code,
                "label": {"th": category.label_th, "en": category.label_en},
                "purpose": {"th": purpose.label_th, "en": purpose.label_en},
                "legal_basis": {"th": basis.label_th, "en": basis.label_en},
                "citation": basis.citation,
                "required": field.required,
                "sensitive": category.sensitive,
            }
        )
    return {
        "service": {"slug": service.slug, "title": {"th": service.title_th, "en": service.title_en}},
        "controller": {"th": controller.name_th, "en": controller.name_en},
        "agency": {"th": agency.name_th, "en": agency.name_en},
        "fields": fields,
        "retention_days": service.retention_days,
        "recipients": {
            "th": f"เจ้าหน้าที่ของ{agency.name_th} ที่ได้รับมอบหมายให้ดูแลบริการนี้เท่านั้น",
            "en": f"only the officers of {agency.name_en} assigned to this service",
        },
        "dpo": {
            "email": agency.dpo_email or controller.dpo_email,
            "phone": agency.dpo_phone or controller.dpo_phone,
        },
        "policy": policy_in_force(service),
    }


def digest(content: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def policy_in_force(service: Service) -> dict[str, Any]:
    """The published privacy policy that covers this service: the agency's own, else the platform's.

    Policy versions belong to the consent app; while it is not installed the notice links to the
    site's policy page if there is one, and names no version.
    """
    if not apps.is_installed("raksa.consent"):
        return {"number": None, "path": _reverse("consent:privacy_policy")}
    policy_version = apps.get_model("consent", "PolicyVersion")
    published = policy_version.objects.filter(status="published")
    for agency, scope in ((service.agency, service.agency.slug), (None, "platform")):
        number = published.filter(agency=agency).order_by("-number").values_list("number", flat=True).first()
        if number is not None:
            return {"number": number, "path": _reverse("consent:policy_version", scope=scope, number=number)}
    return {"number": None, "path": _reverse("consent:privacy_policy")}


def _reverse(name: str, **kwargs: Any) -> str:
    """The path without its language prefix: the notice is shown in either language."""
    with translation.override("th"):
        try:
            path = reverse(name, kwargs=kwargs or None)
        except NoReverseMatch:
            return ""
    return path.removeprefix("/th")


def localised(content: dict[str, Any], language: str) -> dict[str, Any]:
    """The notice in one language, for the template."""
    lang = "en" if language == "en" else "th"

    def pick(value: Any) -> Any:
        if isinstance(value, dict) and set(value) == {"th", "en"}:
            return value[lang]
        if isinstance(value, dict):
            return {key: pick(item) for key, item in value.items()}
        if isinstance(value, list):
            return [pick(item) for item in value]
        return value

    notice = pick(content)
    path = content["policy"]["path"]
    notice["policy"]["url"] = f"/{lang}{path}" if path else ""
    return notice
