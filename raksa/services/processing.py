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
    return Processing(
        activity=f"services.service:{service.slug}",
        activity_th=service.title_th,
        activity_en=service.title_en,
        category=field.category,
        purpose=field.purpose,
        legal_basis=field.legal_basis,
        # Every service keeps values at most as long as this class (a database constraint), and
        # exactly its own days, which the retention engine enforces (raksa/services/retention.py).
        retention=SERVICE_RECORD.code,
        retention_days=service.retention_days,
    )


def reported(agency: Agency | None) -> list[Processing]:
    """The fields the agency's services ask for, for its policy (the platform's lists the registry's bound)."""
    if agency is None:
        return []
    return [
        processing(field) for field in ServiceField.objects.filter(service__agency=agency).select_related("service")
    ]


def fields_in_force(fields: list[ServiceField]) -> list[ServiceField]:
    """The fields, of one service, that the policy in force for its agency covers."""
    if not fields:
        return []
    covered = policies.covering(fields[0].service.agency)
    return [field for field in fields if covered(processing(field))]


def register() -> None:
    policies.register_source(reported, reports_for=["services.registration"])
