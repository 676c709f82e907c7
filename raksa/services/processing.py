"""What each service does with personal data, reported to the privacy policy, and what of it is in force.

Each declared field is one `Processing` of its agency's policy (raksa.consent.policies). A field the
published policy does not cover yet waits as a pending change (DESIGN decision 11): it is left out
of the notice, the form and registering until the DPO publishes a version that covers it.
"""

from raksa.consent import policies
from raksa.consent.policies import Processing
from raksa.organisations.models import Agency
from raksa.registry import SERVICE_RECORD
from raksa.services.models import ServiceField


def processing(field: ServiceField) -> Processing:
    service = field.service
    return _processing(
        service.slug,
        service.title_th,
        service.title_en,
        service.retention_days,
        field.category,
        field.purpose,
        field.legal_basis,
    )


def _processing(
    slug: str,
    title_th: str,
    title_en: str,
    retention_days: int,
    category: str,
    purpose: str,
    legal_basis: str,
) -> Processing:
    return Processing(
        activity=f"services.service:{slug}",
        activity_th=title_th,
        activity_en=title_en,
        category=category,
        purpose=purpose,
        legal_basis=legal_basis,
        # Every service keeps values at most as long as this class (a database constraint), and
        # exactly its own days, which the retention engine enforces (raksa/services/retention.py).
        retention=SERVICE_RECORD.code,
        retention_days=retention_days,
    )


def reported(agency: Agency | None) -> list[Processing]:
    """The fields the agency's services ask for, for its policy (the platform's lists the registry's bound)."""
    if agency is None:
        return []
    # Plain rows, not models: every page listing the purposes a person may consent to asks this per agency.
    rows = ServiceField.objects.filter(service__agency=agency).values_list(
        "service__slug",
        "service__title_th",
        "service__title_en",
        "service__retention_days",
        "category",
        "purpose",
        "legal_basis",
    )
    return [_processing(*row) for row in rows]


def fields_in_force(fields: list[ServiceField]) -> list[ServiceField]:
    """The fields, of one service, that the policy in force for its agency covers."""
    if not fields:
        return []
    covered = policies.covering(fields[0].service.agency)
    return [field for field in fields if covered(processing(field))]


def register() -> None:
    policies.register_source(reported, reports_for=["services.registration"])
