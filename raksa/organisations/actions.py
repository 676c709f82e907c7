from typing import Any

from django.db import transaction

from raksa.organisations.models import Agency, Controller


@transaction.atomic
def upsert_controller(*, slug: str, **details: Any) -> Controller:
    controller, _created = Controller.objects.update_or_create(slug=slug, defaults=details)
    return controller


@transaction.atomic
def upsert_agency(*, controller: Controller, slug: str, **details: Any) -> Agency:
    agency, _created = Agency.objects.update_or_create(slug=slug, defaults={"controller": controller, **details})
    return agency
