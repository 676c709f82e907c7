"""Pre-filling service forms from the profile happens only on live consent (U1, PDPA s19).

Services asks every registered check each time it would pre-fill a form; this one reads the
person's consent for `profile_prefill` with the service's agency at that moment, so a withdrawal
stops the very next form.
"""

from django.http import HttpRequest

from raksa.consent.actions import has_live_consent
from raksa.consent.purposes import PROFILE_PREFILL
from raksa.services.models import Service


def consents_to_prefill(request: HttpRequest, service: Service) -> bool:
    subject = getattr(request.user, "subject", None) if request.user.is_authenticated else None
    return subject is not None and has_live_consent(
        subject=subject, agency=service.agency, purpose=PROFILE_PREFILL.code
    )


def register() -> None:
    from raksa.services import prefill

    prefill.register_consent_check(consents_to_prefill)
