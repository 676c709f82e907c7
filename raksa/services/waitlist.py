"""Where a waitlisted registration stands: shown to the person on the website and in the application."""

from django.db.models import Q

from raksa.services.models import Registration, Status


def waiting_position(registration: Registration) -> int | None:
    """1 for the next to get a seat; None unless the registration is on the waiting list."""
    if registration.status != Status.WAITLISTED:
        return None
    ahead = Registration.objects.filter(service_id=registration.service_id, status=Status.WAITLISTED).filter(
        Q(created_at__lt=registration.created_at) | Q(created_at=registration.created_at, id__lt=registration.id)
    )
    return ahead.count() + 1
