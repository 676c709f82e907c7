"""Account personas for tests: a citizen and staff of an agency, made through the accounts' own actions."""

from django.db import transaction
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from raksa.accounts import mfa
from raksa.accounts.models import User
from raksa.consent.actions import publish_policy_version, save_policy_draft, start_policy_draft
from raksa.consent.models import PolicyVersion
from raksa.consent.policies import current_platform_policy
from raksa.organisations.models import Agency, Controller, StaffMembership, StaffRole
from raksa.subjects.models import Subject

PASSWORD = "correct horse battery staple"  # noqa: S105  (the personas' password, tests only)


@transaction.atomic
def citizen(username: str = "somchai", password: str = PASSWORD) -> User:
    return User.objects.create_user(username, password, subject=Subject.objects.create())


@transaction.atomic
def staff(
    username: str, *, agency: Agency | None = None, role: str = StaffRole.OFFICER, password: str = PASSWORD
) -> User:
    if agency is None:
        controller, _created = Controller.objects.get_or_create(
            slug="bma", defaults={"name_th": "กทม.", "name_en": "BMA"}
        )
        agency, _created = Agency.objects.get_or_create(
            slug="minburi", defaults={"controller": controller, "name_th": "เขตมีนบุรี", "name_en": "Minburi"}
        )
    user = User.objects.create_user(username, password, subject=Subject.objects.create(), is_staff=True)
    StaffMembership.objects.create(user=user, agency=agency, role=role)
    return user


def with_totp(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def sign_in_with_second_factor(client: Client, user: User) -> None:
    """Signs staff in as if they had passed their second factor in this session (making a device if missing)."""
    if not mfa.has_second_factor(user):
        with_totp(user)
    client.force_login(user)
    session = client.session
    session[mfa.MFA_VERIFIED] = timezone.now().timestamp()
    session.save()


def totp_code(device: TOTPDevice, *, step_offset: int = 0) -> str:
    """The code the person's app would show now (or `step_offset` 30-second steps later)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + step_offset * device.step
    return f"{totp.token():0{device.digits}d}"


# Runs background tasks (the account mail) at once, in the request, as a real backend of Django's.
IMMEDIATE_TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}}


def platform_policy() -> PolicyVersion:
    """A published platform privacy policy in force today: sign-up shows it and records its acceptance."""
    current = current_platform_policy()
    if current is not None:
        return current
    draft = start_policy_draft(agency=None, actor=None)
    save_policy_draft(
        version=draft,
        actor=None,
        introduction_th="# นโยบายคุ้มครองข้อมูลส่วนบุคคล",
        introduction_en="# Privacy policy",
        summary_th="",
        summary_en="",
        effective_date=timezone.localdate(),
    )
    return publish_policy_version(version=draft, actor=None)


def platform_operator() -> Controller:
    """The controller of the shared citizen accounts (their e-mail addresses are sealed under it)."""
    controller, _created = Controller.objects.get_or_create(
        is_platform_operator=True, defaults={"slug": "most", "name_th": "วท.", "name_en": "MOST"}
    )
    return controller
