"""Services, people and officers for the services app's tests, made through the app's own actions."""

import datetime
import uuid

from django.test import Client
from django.utils import timezone

from raksa.accounts.models import User
from raksa.consent import actions as consent
from raksa.organisations.models import Agency, Controller, StaffMembership, StaffRole
from raksa.services import actions
from raksa.services.models import Kind, Registration, Service
from raksa.subjects.models import Subject
from raksa.testing import accounts as personas

# Real Thai data: a valid national ID (check digit 5), a Bangkok mobile, Minburi's address.
NATIONAL_ID = "3100600445635"
PHONE = "0812345678"
ADDRESS = {
    "address_line": "333 ถนนสีหบุรานุกิจ",
    "address_subdistrict": "มีนบุรี",
    "address_district": "มีนบุรี",
    "address_province": "กรุงเทพมหานคร",
    "address_postal_code": "10510",
}
# What a person types for the certificate, as the form hands it to the action.
CERTIFICATE_VALUES = {
    "name": "สมชาย รักดี",
    "national_id": NATIONAL_ID,
    "phone": "081 234 5678",
    "address": "333 ถนนสีหบุรานุกิจ\nแขวงมีนบุรี เขตมีนบุรี\nกรุงเทพมหานคร 10510",
    "email": "somchai@example.org",
}
PASSWORD = "correct horse battery staple"


def agency(slug: str = "minburi", controller_slug: str = "bma") -> Agency:
    controller, _created = Controller.objects.get_or_create(
        slug=controller_slug, defaults={"name_th": f"ผู้ควบคุม {controller_slug}", "name_en": controller_slug}
    )
    found, _created = Agency.objects.get_or_create(
        slug=slug,
        defaults={
            "controller": controller,
            "name_th": f"สำนักงานเขต {slug}",
            "name_en": f"{slug} office",
            "dpo_email": f"dpo@{slug}.example",
        },
    )
    return found


def citizen(username: str = "somchai") -> User:
    return User.objects.create_user(username, PASSWORD, subject=Subject.objects.create())


def subject_of(user: User) -> Subject:
    assert user.subject is not None
    return user.subject


def officer(username: str, office: Agency, role: str = StaffRole.OFFICER) -> StaffMembership:
    user = User.objects.create_user(username, PASSWORD, subject=Subject.objects.create(), is_staff=True)
    return StaffMembership.objects.create(user=user, agency=office, role=role)


def log_in_staff(client: Client, staff: StaffMembership) -> None:
    """Signs the officer in as if they had passed their second factor in this session."""
    personas.sign_in_with_second_factor(client, staff.user)


def publish_policy(office: Agency) -> None:
    """Publishes a new version of the agency's policy, covering what its services ask for now."""
    draft = consent.start_policy_draft(agency=office, actor=None)
    consent.save_policy_draft(
        version=draft,
        actor=None,
        introduction_th="# นโยบาย",
        introduction_en="# Policy",
        summary_th="",
        summary_en="",
        effective_date=timezone.localdate(),
    )
    consent.publish_policy_version(version=draft, actor=None)


def certificate(
    office: Agency,
    *,
    slug: str = "certificate",
    fields: tuple[str, ...] = ("name", "national_id", "phone", "address", "email"),
) -> Service:
    service = actions.create_service(
        agency=office,
        slug=slug,
        kind=Kind.SERVICE,
        title_th="ขอหนังสือรับรองถิ่นที่อยู่",
        title_en="Certificate of residence",
        actor=None,
    )
    for code in fields:
        actions.declare_field(
            service=service, category=code, purpose="service_delivery", legal_basis="pdpa_24_4", actor=None
        )
    publish_policy(office)
    return service


def activity(office: Agency, *, slug: str = "workshop", capacity: int = 2) -> Service:
    starts = timezone.now() + datetime.timedelta(days=10)
    service = actions.create_service(
        agency=office,
        slug=slug,
        kind=Kind.ACTIVITY,
        title_th="อบรมการปฐมพยาบาลเบื้องต้น",
        title_en="First aid workshop",
        place_th="ห้องประชุมสำนักงานเขตมีนบุรี",
        place_en="Minburi District Office meeting room",
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=3),
        capacity=capacity,
        actor=None,
    )
    for code in ("name", "email"):
        actions.declare_field(
            service=service, category=code, purpose="service_delivery", legal_basis="pdpa_24_4", actor=None
        )
    publish_policy(office)
    return service


def registration(service: Service, person: User, **values: str) -> Registration:
    notice = actions.current_notice(service)
    defaults = {"name": "สมชาย รักดี", "email": f"{person.username}@example.org"}
    declared = {field.category for field in service.fields.all()}
    given = {code: value for code, value in {**defaults, **values}.items() if code in declared}
    created, _new = actions.register(
        service=service,
        subject=subject_of(person),
        values=given,
        notice_number=notice.number,
        submission_key=uuid.uuid4(),
        actor=person,
    )
    return created
