"""What the recipients register means for the privacy policy and for the person's consents.

Each recipient is reported to its agency's policy (raksa.consent.policies): one `Processing` per
purpose and field it may receive, naming the recipient. A new recipient, or one given a new purpose
or field, is therefore a pending change until the DPO publishes a version covering it, and
`disclose` refuses to give it anything before then (`covered`).

Recipients that are not processors are offered to people on their consents page, one choice per
purpose (raksa.consent.recipients): basis (a) of a disclosure is the consent to that recipient.
"""

from collections.abc import Iterable

from raksa.consent import policies, recipients
from raksa.consent.policies import Processing
from raksa.consent.recipients import ConsentRecipient
from raksa.disclosures.models import Recipient, RecipientKind
from raksa.organisations.models import Agency
from raksa.registry import LEGAL_OBLIGATION, OFFICIAL_INFORMATION_ACT, registry
from raksa.registry.catalogue import Category
from raksa.registry.declarations import Declaration

# The policy names why a recipient may receive data: a processor works under the agency's own basis
# for the data; another agency under the Official Information Act; a court or an authority under
# the law that empowers it. A disclosure itself still needs its own basis (actions.disclose).
_KIND_BASIS = {
    RecipientKind.AGENCY: OFFICIAL_INFORMATION_ACT.code,
    RecipientKind.COURT: LEGAL_OBLIGATION.code,
    RecipientKind.AUTHORITY: LEGAL_OBLIGATION.code,
}


def consent_key(recipient: Recipient) -> str:
    return f"disclosures.recipient:{recipient.pk}"


def _declaration(ref: str) -> Declaration:
    label, _dot, field = ref.rpartition(".")
    return registry.declaration(label, field)


def processing(
    recipient: Recipient, *, purposes: Iterable[str] | None = None, fields: Iterable[str] | None = None
) -> list[Processing]:
    """What the recipient is registered to receive (or the part of it named), as policy items."""
    # A refused purpose (marketing) is never disclosed for, so never announced as if it were.
    wanted_purposes = [code for code in (recipient.purposes if purposes is None else purposes) if _usable(code)]
    wanted_fields = list(recipient.fields if fields is None else fields)
    items = []
    for ref in wanted_fields:
        declaration = _declaration(ref)
        for purpose in wanted_purposes:
            items.append(
                Processing(
                    activity=f"disclosures.recipient:{recipient.slug}",
                    activity_th=f"การเปิดเผยแก่ {recipient.name_th}",
                    activity_en=f"Disclosure to {recipient.name_en}",
                    category=declaration.category.code,
                    purpose=purpose,
                    legal_basis=_KIND_BASIS.get(RecipientKind(recipient.kind), declaration.legal_basis.code),
                    retention=declaration.retention.code,
                    recipients=(f"{recipient.name_th} ({recipient.name_en})",),
                )
            )
    return items


def reported(agency: Agency | None) -> list[Processing]:
    """Every recipient of the agency, for its policy (the platform has no recipients of its own)."""
    if agency is None:
        return []
    return [item for recipient in Recipient.objects.filter(agency=agency) for item in processing(recipient)]


def covered(recipient: Recipient, *, purpose: str, fields: Iterable[str]) -> bool:
    """Whether the policy in force for the recipient's agency covers giving it these fields for this purpose."""
    covers = policies.covering(recipient.agency)
    return all(covers(item) for item in processing(recipient, purposes=[purpose], fields=fields))


def categories_of(fields: Iterable[str]) -> list[Category]:
    """The registry categories of these field references ("consent.inquiry.email"), each once, in order."""
    return list(dict.fromkeys(_declaration(ref).category for ref in fields))


def _usable(purpose: str) -> bool:
    known = {item.code: item for item in registry.purposes()}
    return purpose in known and not known[purpose].refused


def consent_recipients(agency: Agency) -> list[ConsentRecipient]:
    """The recipients a person may consent to disclose to: live, not processors, for usable purposes."""
    offered = []
    for recipient in Recipient.objects.filter(agency=agency).exclude(kind=RecipientKind.PROCESSOR):
        purposes = tuple(code for code in recipient.purposes if _usable(code))
        if not recipient.contract_live() or not purposes:
            continue
        categories = tuple(category.code for category in categories_of(recipient.fields))
        offered.append(
            ConsentRecipient(
                key=consent_key(recipient),
                name_th=recipient.name_th,
                name_en=recipient.name_en,
                purposes=purposes,
                categories=categories,
            )
        )
    return offered


def register() -> None:
    policies.register_source(reported)
    recipients.register_source(consent_recipients)
