"""Disclosing personal data (D1, D2), processors' exports (U3) and the breach register (s37).

`disclose` is the one way a person's data leaves the agency. It needs a basis — `ConsentBasis`,
`RequestBasis` or `LegalDuty` — and refuses without one. Refusals raise `DisclosureRefusedError`
after committing their audit entry (`record_committed`), so call these outside `transaction.atomic`
(on SQLite an open transaction cannot commit an entry of its own).
"""

import base64
import csv
import hashlib
import hmac
import io
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.apps import apps
from django.db import transaction
from django.db.models import Model, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from raksa.accounts.models import User
from raksa.audit.actions import record, record_committed
from raksa.audit.models import Outcome
from raksa.consent.actions import consented_categories
from raksa.disclosures import processing
from raksa.disclosures.models import Basis, Breach, BreachAction, Disclosure, Export, Recipient, RecipientKind
from raksa.organisations.models import Agency, StaffMembership, StaffRole
from raksa.registry import registry
from raksa.subjects import limits
from raksa.subjects.models import Subject
from raksa.vault import indexes
from raksa.vault.openers import Opener

# A transaction the person asked for lives in one of these models (those whose app is installed) —
# a service registration, a question or complaint sent to the DPO, a rights request — each with the
# lookup that ties it to the agency it was made with.
TRANSACTION_MODELS = {
    "services.registration": "service__agency",
    "consent.inquiry": "agency",
    "rights.rightsrequest": "controller__agencies",
}
# Categories that name a person directly: never in a pseudonymised export.
DIRECT_IDENTIFIERS = frozenset({"name", "email", "phone", "national_id", "address", "user_id"})
EXPORT_LIFETIME = timedelta(minutes=30)
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024

# Official Information Act B.E. 2540 s24: when a state agency may disclose without consent.
OIA_SECTION_24 = {
    "24(1)": ("ต่อเจ้าหน้าที่ของรัฐในหน่วยงานของตนเพื่อนำไปใช้ตามอำนาจหน้าที่", "to its own officials for their duties"),
    "24(2)": ("เป็นการใช้ข้อมูลตามปกติภายในวัตถุประสงค์ของการจัดให้มีระบบข้อมูลนั้น", "routine use within the system's purpose"),
    "24(3)": ("ต่อหน่วยงานที่ทำงานด้านการวางแผน สถิติ หรือสำมะโน", "to an agency for planning, statistics or census"),
    "24(4)": ("เพื่อการศึกษาวิจัยโดยไม่ระบุชื่อหรือส่วนที่ทำให้รู้ว่าเป็นข้อมูลของบุคคลใด", "research without identifying anyone"),
    "24(5)": ("ต่อหอจดหมายเหตุแห่งชาติ", "to the National Archives"),
    "24(6)": (
        "ต่อเจ้าหน้าที่ของรัฐเพื่อการป้องกันการฝ่าฝืนกฎหมาย การสืบสวน สอบสวน หรือการฟ้องคดี",
        "to officials to prevent, investigate or prosecute an offence",
    ),
    "24(7)": ("เพื่อป้องกันหรือระงับอันตรายต่อชีวิตหรือสุขภาพของบุคคล", "to prevent danger to a person's life or health"),
    "24(8)": (
        "ต่อศาล และเจ้าหน้าที่ของรัฐหรือบุคคลที่มีอำนาจตามกฎหมายที่จะขอข้อเท็จจริงดังกล่าว",
        "to a court, or officials with legal power to ask",
    ),
    "24(9)": ("กรณีอื่นตามที่กำหนดในพระราชกฤษฎีกา", "other cases set by royal decree"),
}


class DisclosureRefusedError(PermissionError):
    """No basis, or the recipient may not receive this; the refusal is audited. Carries no values."""


class MarketingRefusedError(DisclosureRefusedError):
    """Marketing is refused whatever the basis (D2)."""


class ExportRefusedError(PermissionError):
    """The export is not this account's, is used, has expired, or its contract has."""


@dataclass(frozen=True)
class ConsentBasis:
    """(a) The person's live consent to this recipient for the purpose, asked at the moment of disclosure."""


@dataclass(frozen=True)
class RequestBasis:
    """(b) A transaction the person asked for: "services.registration:<uuid>" or "rights.request:<uuid>"."""

    reference: str


@dataclass(frozen=True)
class LegalDuty:
    """(c) A law or an order of a competent authority, with the document attached."""

    reference: str
    issuing_authority: str
    order_date: date
    document: bytes
    document_name: str
    oia_section: str = ""


type DisclosureBasis = ConsentBasis | RequestBasis | LegalDuty


def _field_ref(value: str) -> tuple[type[Model], str]:
    label, _sep, field = value.rpartition(".")
    return apps.get_model(label), field


def _refuse(
    error: type[DisclosureRefusedError],
    why: str,
    *,
    subject: Subject,
    recipient: Recipient,
    purpose: str,
    actor: object,
) -> DisclosureRefusedError:
    record_committed(
        action="disclosures.marketing_refused" if error is MarketingRefusedError else "disclosures.refused",
        actor=actor,
        agency_id=recipient.agency_id,
        subject_id=subject.pk,
        object_type="disclosures.recipient",
        object_id=recipient.pk,
        purpose=purpose if re.fullmatch(r"[a-z0-9_]{1,64}", purpose) else "",
        outcome=Outcome.DENIED,
    )
    return error(why)


def _transactions(label: str, subject: Subject, agency: Agency) -> QuerySet | None:
    try:
        model = apps.get_model(label)
    except LookupError:
        return None
    return model._default_manager.filter(
        **{getattr(model, "vault_subject_field", "subject"): subject, TRANSACTION_MODELS[label]: agency}
    )


def _transaction_belongs(reference: str, subject: Subject, agency: Agency) -> bool:
    """Whether the reference names an existing request or registration of this person at this agency."""
    label, _sep, object_id = reference.partition(":")
    if label not in TRANSACTION_MODELS:
        return False
    try:
        pk = uuid.UUID(object_id)
    except ValueError:
        return False
    found = _transactions(label, subject, agency)
    return found is not None and found.filter(pk=pk).exists()


def transactions_of(subject: Subject, agency: Agency) -> list[tuple[str, Model]]:
    """The person's registrations, questions and requests at the agency, as (reference, row), newest first."""
    found: list[tuple[str, Model]] = []
    for label in TRANSACTION_MODELS:
        rows = _transactions(label, subject, agency)
        found += [(f"{label}:{row.pk}", row) for row in rows or ()]
    return found


def find_people(
    *,
    agency: Agency,
    kind: str,
    value: str,
    actor: object,
    role: str = StaffRole.DPO,
    action: str = "disclosures.person_lookup",
    purpose: str = "",
) -> list[Subject]:
    """The people whose data at this agency's controller holds this exact value (blind index), audited.

    The value is never stored or logged: only who looked (`role`), by what kind of value, and whom it
    found. The DPO's disclosure screen and the rights officer's linking of a paper request both use it.
    """
    subject_ids = sorted(
        {match.subject_id for match in indexes.find(kind, value) if match.controller_id == agency.controller_id}
    )
    found: list[uuid.UUID | None] = [*subject_ids] or [None]
    with transaction.atomic():
        for subject_id in found:
            record(
                action=action,
                actor=actor,
                role=role,
                agency_id=agency.pk,
                subject_id=subject_id,
                fields=(kind,),
                purpose=purpose,
                outcome=Outcome.ALLOWED if subject_id else Outcome.DENIED,
            )
    return list(Subject.objects.filter(pk__in=subject_ids))


def disclose(
    *,
    subject: Subject,
    recipient: Recipient,
    purpose: str,
    fields: list[str],
    basis: DisclosureBasis,
    actor: object,
    hold_until: date | None = None,
) -> Disclosure:
    """Records one disclosure of the person's `fields` to `recipient`, or refuses it (D1, D2)."""

    def refuse(why: str, error: type[DisclosureRefusedError] = DisclosureRefusedError) -> DisclosureRefusedError:
        return _refuse(error, why, subject=subject, recipient=recipient, purpose=purpose, actor=actor)

    known = {p.code: p for p in registry.purposes()}
    if purpose not in known or known[purpose].refused:
        raise refuse(
            _("Marketing, or a purpose not in the registry, is never a reason to disclose (D2)."), MarketingRefusedError
        )
    if purpose not in recipient.purposes:
        raise refuse(_("The recipient is not registered for this purpose."))
    if not fields or not set(fields) <= set(recipient.fields):
        raise refuse(_("The recipient may not receive these fields."))
    if not recipient.contract_live():
        raise refuse(_("The recipient's contract or agreement has expired."))
    if not processing.covered(recipient, purpose=purpose, fields=fields):
        raise refuse(_("The privacy policy in force does not cover this recipient yet: publish a version that does."))
    if not isinstance(basis, LegalDuty) and limits.is_limited(subject.pk, purpose):
        raise refuse(
            _(
                "The person restricted the processing of their data for this purpose, or objected to it "
                "(PDPA s32, s34): only a legal duty or an order allows this disclosure."
            )
        )
    values: dict[str, object] = {}
    match basis:
        case ConsentBasis():
            covers = consented_categories(
                subject=subject, agency=recipient.agency, purpose=purpose, recipient=processing.consent_key(recipient)
            )
            if covers is None:
                raise refuse(_("The person has no live consent to this recipient for this purpose."))
            # A consent covers what the person was shown (PDPA s19), not what the register added since.
            beyond = [category for category in processing.categories_of(fields) if category.code not in covers]
            if beyond:
                raise refuse(
                    _(
                        "The person's consent to this recipient does not cover: %(categories)s. It was given "
                        "before the recipient was registered to receive it; only a new consent allows it."
                    )
                    % {"categories": ", ".join(str(category.label) for category in beyond)}
                )
        case RequestBasis(reference=reference):
            if not _transaction_belongs(reference, subject, recipient.agency):
                raise refuse(_("That is not a registration, question or request of this person at this agency."))
            values["transaction_reference"] = reference
        case LegalDuty():
            if not (basis.reference.strip() and basis.issuing_authority.strip() and basis.document):
                raise refuse(
                    _("A legal duty needs the order's reference, the issuing authority, its date and the document.")
                )
            if basis.oia_section and basis.oia_section not in OIA_SECTION_24:
                raise refuse(_("That is not a case of section 24 of the Official Information Act."))
            if len(basis.document) > MAX_DOCUMENT_BYTES:
                raise refuse(_("The document is too large (at most 5 MB)."))
            values |= {
                "legal_reference": basis.reference.strip(),
                "issuing_authority": basis.issuing_authority.strip(),
                "order_date": basis.order_date,
                "oia_section": basis.oia_section,
                "document": base64.b64encode(basis.document).decode("ascii"),
                "document_name": basis.document_name[:200],
            }
        case _:
            raise refuse(_("A disclosure needs a basis."))
    kind = {ConsentBasis: Basis.CONSENT, RequestBasis: Basis.REQUEST, LegalDuty: Basis.LEGAL}[type(basis)]
    with transaction.atomic():
        disclosure = Disclosure.objects.create(
            subject=subject,
            controller_id=recipient.agency.controller_id,
            agency=recipient.agency,
            recipient=recipient,
            purpose=purpose,
            basis=kind,
            fields=sorted(fields),
            hold_until=hold_until,
            disclosed_by_id=getattr(actor, "pk", None),
            **values,
        )
        _record_disclosure(disclosure, actor)
    return disclosure


def _record_disclosure(disclosure: Disclosure, actor: object) -> None:
    record(
        action="disclosures.disclosed",
        actor=actor,
        agency_id=disclosure.agency_id,
        subject_id=disclosure.subject_id,
        object_type="disclosures.disclosure",
        object_id=disclosure.pk,
        fields=disclosure.fields,
        purpose=disclosure.purpose,
        legal_basis=disclosure.basis,
    )


def ledger_for(subject: Subject, *, on: date | None = None) -> list[Disclosure]:
    """The person's disclosures, newest first, without those a lawful hold still defers."""
    return list(visible_disclosures(subject.pk, on=on).select_related("recipient", "agency").order_by("-disclosed_at"))


def visible_disclosures(subject_id: uuid.UUID, *, on: date | None = None) -> QuerySet[Disclosure]:
    """The person's disclosures that no lawful hold defers any more (on `on`, or today)."""
    today = on or timezone.localdate()
    return Disclosure.objects.filter(subject_id=subject_id).filter(
        Q(hold_until__isnull=True) | Q(hold_until__lte=today)
    )


# Processors' exports (U3) -------------------------------------------------------------------------------
def _contractor_of(recipient: Recipient, actor: User) -> bool:
    user_id = actor.pk
    return (
        recipient.kind == RecipientKind.PROCESSOR
        and recipient.accounts.filter(pk=user_id).exists()
        and StaffMembership.objects.filter(
            user_id=user_id, agency_id=recipient.agency_id, role=StaffRole.CONTRACTOR
        ).exists()
    )


def _deny_export(recipient: Recipient, actor: User, object_id: object, why: str) -> ExportRefusedError:
    record_committed(
        action="disclosures.export_refused",
        actor=actor,
        role=StaffRole.CONTRACTOR,
        agency_id=recipient.agency_id,
        object_type="disclosures.export",
        object_id=str(object_id),
        outcome=Outcome.DENIED,
    )
    return ExportRefusedError(why)


def prepare_export(*, recipient: Recipient, purpose: str, store: str, actor: User) -> tuple[Export, str]:
    """A single-use link for the contract's fields of one store; returns the export and its token.

    The token is shown once and never stored: only its SHA-256 is kept.
    """
    fields = [ref.rpartition(".")[2] for ref in recipient.fields if ref.rpartition(".")[0] == store.lower()]
    if not _contractor_of(recipient, actor):
        raise _deny_export(recipient, actor, "", "not a contractor of this processor")
    if not recipient.contract_live():
        raise _deny_export(recipient, actor, "", "the contract has expired")
    if purpose not in recipient.purposes or registry.purpose(purpose).refused or not fields:
        raise _deny_export(recipient, actor, "", "the contract does not cover this export")
    if recipient.pseudonymised and any(
        registry.declaration(store, field).category.code in DIRECT_IDENTIFIERS for field in fields
    ):
        raise _deny_export(recipient, actor, "", "a pseudonymised contract cannot receive direct identifiers")
    if not processing.covered(recipient, purpose=purpose, fields=[f"{store.lower()}.{field}" for field in fields]):
        raise _deny_export(recipient, actor, "", "the privacy policy in force does not cover this processor yet")
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        export = Export.objects.create(
            recipient=recipient,
            purpose=purpose,
            store=store.lower(),
            fields=fields,
            token_hash=token_hash(token),
            created_by=actor,
            expires_at=timezone.now() + EXPORT_LIFETIME,
        )
        record(
            action="disclosures.export_prepared",
            actor=actor,
            role=StaffRole.CONTRACTOR,
            agency_id=recipient.agency_id,
            object_type="disclosures.export",
            object_id=export.pk,
            fields=[f"{store.lower()}.{field}" for field in fields],
            purpose=purpose,
            legal_basis=Basis.PROCESSOR,
        )
    return export, token


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def download_export(*, token: str, actor: User) -> tuple[Export, str]:
    """The export's CSV, once, to one of the processor's contractor accounts, recorded as disclosures."""
    export = Export.objects.select_related("recipient__agency").filter(token_hash=token_hash(token)).first()
    if export is None:
        raise ExportRefusedError("no such export")
    recipient = export.recipient
    if not _contractor_of(recipient, actor):
        raise _deny_export(recipient, actor, export.pk, "not a contractor of this processor")
    if export.downloaded_at is not None or export.expires_at <= timezone.now():
        raise _deny_export(recipient, actor, export.pk, "the link is used or has expired")
    if not recipient.contract_live():
        raise _deny_export(recipient, actor, export.pk, "the contract has expired")
    model = apps.get_model(export.store)
    subject_field, controller_field = _vault_columns(model)
    with transaction.atomic():
        if not Export.objects.filter(pk=export.pk, downloaded_at__isnull=True).update(downloaded_at=timezone.now()):
            raise ExportRefusedError("the link is used")
        # People who restricted this processing or objected to it (PDPA s32, s34) are left out of the job.
        rows = list(
            model._default_manager.filter(**{controller_field: recipient.agency.controller_id})
            .exclude(**{f"{subject_field}__in": limits.limited_subjects(export.purpose)})
            .order_by("pk")
        )
        opened = Opener.for_system("export").open_many(rows, export.fields)
        salt = secrets.token_bytes(32)
        output = io.StringIO()
        writer = csv.writer(output)
        writer.writerow(["person", *export.fields])
        subjects: set[uuid.UUID] = set()
        for row, values in zip(rows, opened, strict=True):
            subject_id = getattr(row, subject_field)
            subjects.add(subject_id)
            person = (
                hmac.new(salt, subject_id.bytes, hashlib.sha256).hexdigest()[:20]
                if recipient.pseudonymised
                else str(subject_id)
            )
            writer.writerow([person, *(str(values[field] or "") for field in export.fields)])
        export.row_count = len(rows)
        export.save(update_fields=["row_count"])
        refs = [f"{export.store}.{field}" for field in export.fields]
        for subject_id in sorted(subjects):
            disclosure = Disclosure.objects.create(
                subject_id=subject_id,
                controller_id=recipient.agency.controller_id,
                agency=recipient.agency,
                recipient=recipient,
                purpose=export.purpose,
                basis=Basis.PROCESSOR,
                fields=refs,
                export=export,
                disclosed_by_id=getattr(actor, "pk", None),
            )
            _record_disclosure(disclosure, actor)
    return export, output.getvalue()


def _vault_columns(model: Any) -> tuple[str, str]:
    """The columns holding a vault model's subject and controller IDs."""
    return f"{model.vault_subject_field}_id", f"{model.vault_controller_field}_id"


# Breaches (PDPA s37(4)) -------------------------------------------------------------------------------
def count_affected(*, controller_id: int, categories: list[str]) -> int:
    """How many people the registry's stores hold data of, in these categories, for this controller."""
    subjects: set[object] = set()
    for store in registry.stores():
        fields = [d.field for d in store.declarations if d.category.code in categories]
        model = store.model_class()
        if not fields or not hasattr(model, "vault_controller_field"):
            continue
        any_value = Q()
        for field in fields:
            any_value |= Q(**{f"{field}__isnull": False})
        subject_field, controller_field = _vault_columns(model)
        subjects.update(
            model._default_manager.filter(any_value, **{controller_field: controller_id})
            .values_list(subject_field, flat=True)
            .distinct()
        )
    return len(subjects)


def record_breach(
    *, agency: Agency, discovered_at: datetime, description: str, categories: list[str], risk: str, actor: User
) -> Breach:
    known = {category.code for category in registry.categories()}
    if not categories or not set(categories) <= known:
        raise ValueError("name the affected categories from the registry")
    with transaction.atomic():
        breach = Breach.objects.create(
            agency=agency,
            discovered_at=discovered_at,
            description=description,
            categories=sorted(categories),
            affected_count=count_affected(controller_id=agency.controller_id, categories=categories),
            risk=risk,
            recorded_by=actor,
        )
        BreachAction.objects.create(breach=breach, note="recorded", actor=actor)
        record(
            action="disclosures.breach_recorded",
            actor=actor,
            agency_id=agency.pk,
            object_type="disclosures.breach",
            object_id=breach.pk,
        )
    return breach


def add_breach_action(*, breach: Breach, note: str, actor: User, pdpc_notified: bool = False) -> BreachAction:
    with transaction.atomic():
        action = BreachAction.objects.create(breach=breach, note=note, actor=actor)
        if pdpc_notified and breach.pdpc_notified_at is None:
            breach.pdpc_notified_at = action.at
            breach.save(update_fields=["pdpc_notified_at"])
        record(
            action="disclosures.breach_action",
            actor=actor,
            agency_id=breach.agency_id,
            object_type="disclosures.breach",
            object_id=breach.pk,
        )
    return action
