"""Organisations hold no personal data: their contacts are published on the site (V2, V3)."""

from raksa.registry import not_personal

_PUBLISHED = "an organisation's published contact details, not a person's"
for _model in ("organisations.Controller", "organisations.Agency"):
    not_personal(
        _model, "address_th", "address_en", "phone", "fax", "contact_email", "dpo_email", "dpo_phone", reason=_PUBLISHED
    )
