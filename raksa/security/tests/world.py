"""A small site with two people, two agencies and their staff, made through each app's own actions.

Citizen B uses every feature with values that carry a unique canary token; agency Minburi keeps
internal records (a draft policy, a mailing, a breach, a legal hold) marked the same way. Whoever
may not see them must never find the token in a response.
"""

import datetime
import secrets
import uuid
from dataclasses import dataclass, field

from django.test import Client
from django.utils import timezone

from raksa.accesslog import actions as accesslog
from raksa.accounts import mfa
from raksa.accounts.models import User
from raksa.consent import actions as consent
from raksa.consent.models import PolicyVersion
from raksa.disclosures import actions as disclosures
from raksa.disclosures.models import Recipient, RecipientKind
from raksa.organisations.models import Agency, Controller, StaffMembership, StaffRole
from raksa.retention import actions as retention
from raksa.rights import actions as rights
from raksa.rights import exports
from raksa.services import actions as services
from raksa.services.models import Kind, Service
from raksa.subjects.models import Subject
from raksa.testing import accounts as personas

# The people and staff who try to reach what is not theirs, by the name the sweep reports them under.
ATTACKERS = (
    "anonymous",
    "citizen_a",
    "officer_other_service",
    "officer_other_agency",
    "dpo_other_agency",
    "administrator_other_agency",
    "contractor",
    *(f"{role}_without_mfa" for role in StaffRole.values),
)

# Who may see B's records and Minburi's internal ones, and so proves the canaries can be found at all
ENTITLED = ("citizen_b", "officer", "dpo", "investigator")
# Internal IDs that no page shows even to their owner; still searched for, as an API might leak them.
NEVER_SHOWN = frozenset({"user_id", "subject_id"})


def national_id(first_twelve: str) -> str:
    """A Thai national ID with its check digit (stdnum.th.pin's rule)."""
    total = sum(int(digit) * (13 - position) for position, digit in enumerate(first_twelve))
    return first_twelve + str((11 - total % 11) % 10)


@dataclass
class World:
    token: str
    agencies: dict[str, Agency]
    services: dict[str, Service]
    users: dict[str, User]
    # What nobody but B (and the staff who serve B) may see: canary values and B's record IDs.
    canaries: dict[str, str] = field(default_factory=dict)
    object_ids: dict[str, str] = field(default_factory=dict)
    # Parameter values the sweep puts into addresses.
    parameters: dict[str, object] = field(default_factory=dict)

    def client_for(self, actor: str) -> Client:
        """A client signed in as `actor` (staff with a second factor have passed it in this session)."""
        client = Client()
        self.sign_in(client, actor)
        return client

    def sign_in(self, client: Client, actor: str) -> None:
        if actor == "anonymous":
            return
        user = self.users[actor]
        if mfa.has_second_factor(user):
            personas.sign_in_with_second_factor(client, user)
        else:
            client.force_login(user)

    def signed_in(self, client: Client, actor: str) -> bool:
        if actor == "anonymous":
            return True
        return client.session.get("_auth_user_id") == str(self.users[actor].pk)

    def secrets_in(self, body: str, *, url: str) -> list[str]:
        """The canaries and B's record IDs found in a response (IDs the address itself carried excepted)."""
        found = [name for name, value in self.canaries.items() if value in body]
        found += [name for name, value in self.object_ids.items() if value in body and value not in url]
        return found


def build() -> World:
    token = "cnry" + secrets.token_hex(5)
    personas.platform_operator()
    personas.platform_policy()
    minburi = _agency("minburi", "bma", "เขตมีนบุรี")
    latkrabang = _agency("latkrabang", "moi", "เขตลาดกระบัง")
    world = World(
        token=token,
        agencies={"minburi": minburi, "latkrabang": latkrabang},
        services={},
        users={},
    )
    _staff(world, minburi, latkrabang)
    world.services = {
        "certificate": _certificate(minburi, "certificate", world.users["officer"]),
        "permit": _certificate(minburi, "permit", world.users["officer_other_service"]),
        "latkrabang-certificate": _certificate(
            latkrabang, "latkrabang-certificate", world.users["officer_other_agency"]
        ),
    }
    services.assign_officer(
        service=world.services["certificate"], staff=_membership(world.users["officer_without_mfa"]), actor=None
    )
    _citizen_a(world)
    _citizen_b(world)
    _agency_records(world, minburi)
    return world


def _agency(slug: str, controller_slug: str, name_th: str) -> Agency:
    controller, _created = Controller.objects.get_or_create(
        slug=controller_slug, defaults={"name_th": f"ผู้ควบคุม {controller_slug}", "name_en": controller_slug}
    )
    return Agency.objects.create(
        slug=slug, controller=controller, name_th=name_th, name_en=slug, dpo_email=f"dpo@{slug}.example"
    )


def _membership(user: User) -> StaffMembership:
    return StaffMembership.objects.get(user=user)


def _staff(world: World, minburi: Agency, latkrabang: Agency) -> None:
    with_mfa = {
        "officer": (minburi, StaffRole.OFFICER),
        "officer_other_service": (minburi, StaffRole.OFFICER),
        "officer_other_agency": (latkrabang, StaffRole.OFFICER),
        "dpo": (minburi, StaffRole.DPO),
        "dpo_other_agency": (latkrabang, StaffRole.DPO),
        "administrator_other_agency": (latkrabang, StaffRole.ADMINISTRATOR),
        "investigator": (minburi, StaffRole.INVESTIGATOR),
        "contractor": (minburi, StaffRole.CONTRACTOR),
    }
    for name, (agency, role) in with_mfa.items():
        world.users[name] = personas.staff(name.replace("_", "-"), agency=agency, role=role)
        personas.with_totp(world.users[name])
    # Every role of Minburi's once more, without a second factor: none of them may see anything.
    for role in StaffRole:
        world.users[f"{role.value}_without_mfa"] = personas.staff(f"{role.value}-no-mfa", agency=minburi, role=role)


def _certificate(agency: Agency, slug: str, officer: User) -> Service:
    service = services.create_service(
        agency=agency, slug=slug, kind=Kind.SERVICE, title_th="ขอหนังสือรับรอง", title_en="Certificate", actor=None
    )
    for code in ("name", "national_id", "address", "email"):
        services.declare_field(
            service=service, category=code, purpose="service_delivery", legal_basis="pdpa_24_4", actor=None
        )
    _publish_policy(agency, introduction="# นโยบาย")
    services.assign_officer(service=service, staff=_membership(officer), actor=None)
    return service


def _publish_policy(agency: Agency, *, introduction: str) -> None:
    draft = consent.start_policy_draft(agency=agency, actor=None)
    _save_draft(draft, introduction)
    consent.publish_policy_version(version=draft, actor=None)


def _save_draft(draft: PolicyVersion, introduction: str) -> None:
    consent.save_policy_draft(
        version=draft,
        actor=None,
        introduction_th=introduction,
        introduction_en=introduction,
        summary_th="",
        summary_en="",
        effective_date=timezone.localdate(),
    )


def _register(service: Service, person: User, values: dict[str, str]) -> str:
    registration, _new = services.register(
        service=service,
        subject=_subject(person),
        values=values,
        notice_number=services.current_notice(service).number,
        submission_key=uuid.uuid4(),
        actor=person,
    )
    return str(registration.pk)


def _subject(person: User) -> Subject:
    assert person.subject is not None
    return person.subject


def _citizen_a(world: World) -> None:
    person = personas.citizen("citizen-a")
    world.users["citizen_a"] = person
    values = {
        "name": "สมหญิง ใจดี",
        "national_id": national_id("110170000001"),
        "address": "99 ถนนรามอินทรา",
        "email": "a@example.org",
    }
    _register(world.services["certificate"], person, values)
    rights.file_request(subject=_subject(person), type="access", actor=person)


def _citizen_b(world: World) -> None:
    token = world.token
    person = personas.citizen(f"{token}user")
    world.users["citizen_b"] = person
    subject = _subject(person)
    minburi = world.agencies["minburi"]
    world.canaries |= {
        "username": f"{token}user",
        "name": f"{token}name",
        "national_id": national_id("3" + str(int(token[4:], 16))[-11:].rjust(11, "7")),
        "address": f"{token}address",
        "email": f"{token}mail@example.org",
        "consent_email": f"{token}consent@example.org",
        "inquiry_name": f"{token}inquirer",
        "inquiry_message": f"{token}question",
        "request_details": f"{token}details",
        "case_note": f"{token}note",
        "court_order": f"{token}order",
    }
    canaries = world.canaries
    registration_id = _register(
        world.services["certificate"],
        person,
        {
            "name": f"สมชาย {canaries['name']}",
            "national_id": canaries["national_id"],
            "address": f"1 {canaries['address']} ถนนสีหบุรานุกิจ",
            "email": canaries["email"],
        },
    )
    registration = world.services["certificate"].registrations.get(pk=registration_id)
    services.add_note(registration=registration, staff=_membership(world.users["officer"]), text=canaries["case_note"])
    consent.grant_consent(
        subject=subject,
        agency=minburi,
        purpose="news_and_pr",
        channel="web",
        minor=False,
        email=canaries["consent_email"],
        actor=person,
    )
    inquiry = consent.submit_inquiry(
        agency=minburi,
        kind="question",
        name=canaries["inquiry_name"],
        email=canaries["email"],
        message=canaries["inquiry_message"],
        subject=subject,
        language="th",
    )
    request = rights.file_request(subject=subject, type="access", details=canaries["request_details"], actor=person)
    export = exports.request_export(subject=subject, format="json", language="th", actor=person)
    court = Recipient.objects.create(
        agency=minburi,
        slug="civil-court",
        name_th="ศาลแพ่ง",
        name_en="Civil Court",
        kind=RecipientKind.COURT,
        purposes=["rights_requests"],
        fields=["consent.inquiry.name"],
    )
    _publish_policy(minburi, introduction="# นโยบาย")  # a disclosure needs a policy in force that names the court
    disclosure = disclosures.disclose(
        subject=subject,
        recipient=court,
        purpose="rights_requests",
        fields=["consent.inquiry.name"],
        basis=disclosures.LegalDuty(
            reference=canaries["court_order"],
            issuing_authority="ศาลแพ่ง",
            order_date=timezone.localdate(),
            document=b"%PDF-1.4 order",
            document_name="order.pdf",
        ),
        actor=None,
    )
    world.object_ids |= {
        "user_id": str(person.pk),
        "subject_id": str(subject.pk),
        "registration_id": registration_id,
        "request_id": str(request.pk),
        "export_id": str(export.pk),
        "reference": inquiry.reference,
        "disclosure_id": str(disclosure.pk),
    }


def _agency_records(world: World, minburi: Agency) -> None:
    """Minburi's internal records: only its own staff, with their second factor, may see them."""
    token = world.token
    world.canaries |= {
        "policy_draft": f"{token}draft",
        "mailing": f"{token}mailing",
        "breach": f"{token}breach",
        "legal_hold": f"{token}hold",
        "retention_hold": f"{token}retention",
    }
    _save_draft(consent.start_policy_draft(agency=minburi, actor=None), f"# {token}draft")
    consent.create_mailing(agency=minburi, purpose="news_and_pr", title_th=f"{token}mailing", body_th="ข่าว", actor=None)
    breach = disclosures.record_breach(
        agency=minburi,
        discovered_at=timezone.now(),
        description=f"{token}breach",
        categories=["name"],
        risk="low",
        actor=world.users["dpo"],
    )
    processor = Recipient.objects.create(
        agency=minburi,
        slug="thai-post",
        name_th="ไปรษณีย์ไทย",
        name_en="Thailand Post",
        kind=RecipientKind.PROCESSOR,
        contract_reference="สัญญา 12/2569",
        purposes=["contact"],
        fields=["consent.inquiry.name"],
    )
    processor.accounts.add(world.users["contractor"], world.users["contractor_without_mfa"])
    now = timezone.now()
    hold = accesslog.place_legal_hold(
        actor=world.users["investigator"],
        role=StaffRole.INVESTIGATOR,
        agency_id=minburi.pk,
        starts_at=now - datetime.timedelta(days=2),
        ends_at=now - datetime.timedelta(days=1),
        case_reference=f"{token}hold",
    )
    retention_hold = retention.place_hold(
        staff=_membership(world.users["dpo"]),
        reason=f"{token}retention",
        ends_on=timezone.localdate() + datetime.timedelta(days=30),
        subject_id=_subject(world.users["citizen_b"]).pk,
    )
    world.parameters |= {
        "breach_id": breach.pk,
        "hold_id": hold.pk,
        "retention_hold_id": retention_hold.pk,
        "processor_slug": processor.slug,
        "colleague_id": world.users["officer"].pk,
    }
