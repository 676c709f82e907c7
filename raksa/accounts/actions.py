"""Every write of the accounts app: one transaction each, with its audit entry."""

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from raksa.accounts import addresses, apptokens, throttle, tokens
from raksa.accounts.devices import describe
from raksa.accounts.hashers import spend_a_verification
from raksa.accounts.mfa import MFA_VERIFIED, PENDING_LOGIN, confirmed_device
from raksa.accounts.middleware import idle_seconds
from raksa.accounts.models import (
    AccountToken,
    AppToken,
    PasswordHistory,
    PendingEmail,
    RecoveryCode,
    Session,
    TokenPurpose,
    User,
)
from raksa.accounts.reauth import mark_reauthenticated
from raksa.accounts.sessions import BROWSER, DEVICE, PLATFORM, SEEN, STAFF, STARTED
from raksa.accounts.tasks import send_account_mail
from raksa.audit.actions import record
from raksa.consent.actions import accept_policy
from raksa.consent.models import Channel, PolicyVersion
from raksa.organisations.models import Agency, StaffMembership
from raksa.subjects.models import Subject
from raksa.vault.actions import ValueTakenError
from raksa.vault.openers import Opener
from raksa.vault.routers import KEYSTORE

BACKEND = "raksa.accounts.backends.AccountBackend"
RECOVERY_CODES = 10
# Without ambiguous characters (0/o, 1/l/i), so a code copied from paper works.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def _staff_context(user: User) -> dict:
    membership = StaffMembership.objects.filter(user=user).first()
    return {"role": membership.role, "agency_id": membership.agency_id} if membership else {}


def _event(action: str, user: User, *, actor: User | None, outcome: str = "allowed") -> None:
    record(
        action=action,
        actor=actor,
        subject_id=user.subject_id,
        object_type="accounts.user",
        object_id=user.pk,
        outcome=outcome,
        **_staff_context(user),
    )


def find_account(identifier: str) -> User | None:
    """The account with this user ID or e-mail address, or None."""
    identifier = identifier.strip()
    if "@" in identifier:
        user = addresses.find_user(identifier)
        if user is not None:
            return user
    return User.objects.filter(username__iexact=identifier).first()


def _remember_password(user: User) -> None:
    if user.has_usable_password():
        PasswordHistory.objects.create(user=user, password=user.password)


def _set_password(user: User, encoded: str) -> None:
    """Store a hash made before the transaction began (see check_login)."""
    _remember_password(user)
    user.password = encoded
    user.password_changed_at = timezone.now()
    user.save(update_fields=["password", "password_changed_at"])


def _end_sessions(user: User, *, keep: str | None = None) -> int:
    """Every web session but `keep`, and every log-in of the mobile application."""
    AppToken.objects.filter(user=user).delete()
    sessions = Session.objects.filter(user=user)
    if keep:
        sessions = sessions.exclude(session_key=keep)
    count, _details = sessions.delete()
    return count


# --- Creating an account -------------------------------------------------------------------------


def create_account(
    *,
    username: str,
    email: str,
    password: str,
    policy: PolicyVersion,
    origin: str,
    language: str,
    channel: str = Channel.WEB,
) -> None:
    """Create a citizen account, record its acceptance of the frozen policy version shown, mail a link.

    An address that already has an account gets a notice instead, and nothing is created: the
    person sees the same answer either way, so sign-up reveals no addresses.
    """
    # Hashed before the transaction (see check_login); for a known address too, so both take as long.
    encoded = make_password(password)
    try:
        _create_account(
            username=username,
            email=email,
            encoded=encoded,
            policy=policy,
            origin=origin,
            language=language,
            channel=channel,
        )
    except ValueTakenError:
        # Another sign-up took the address between the look-up and the insert (the key store's
        # unique index refused the second): nothing of this one was kept; answer as for a known address.
        _notify_owner_of_signup(email=email, origin=origin, language=language)


@transaction.atomic
@transaction.atomic(using=KEYSTORE)  # the address's blind index and key: kept only if the account is
def _create_account(
    *, username: str, email: str, encoded: str, policy: PolicyVersion, origin: str, language: str, channel: str
) -> None:
    if _notify_owner_of_signup(email=email, origin=origin, language=language):
        return
    subject = Subject.objects.create()
    user = User(username=username, subject=subject, password=encoded, password_changed_at=timezone.now())
    user.save()
    addresses.store(user, email)
    _event("accounts.account_created", user, actor=user)
    accept_policy(subject=subject, version=policy, channel=channel)
    send_account_mail.enqueue(user_id=str(user.pk), kind=TokenPurpose.CONFIRM_EMAIL, origin=origin, language=language)


@transaction.atomic
def _notify_owner_of_signup(*, email: str, origin: str, language: str) -> bool:
    """If an account has this address, tell its owner someone tried to sign up with it; say whether one has."""
    owner = addresses.find_user(email)
    if owner is None:
        return False
    record(action="accounts.signup_existing_email", subject_id=owner.subject_id, outcome="denied")
    send_account_mail.enqueue(user_id=str(owner.pk), kind="signup_notice", origin=origin, language=language)
    return True


@transaction.atomic
def confirm_email(*, token: AccountToken) -> bool:
    if not tokens.consume(token):
        return False
    user = token.user
    if user.email_confirmed_at is None:
        user.email_confirmed_at = timezone.now()
        user.save(update_fields=["email_confirmed_at"])
    _event("accounts.email_confirmed", user, actor=user)
    return True


def change_email(*, user: User, email: str, origin: str, language: str) -> None:
    """Rectify the account's address: the new one is held, sealed, and replaces the old only once the
    link mailed to it is followed (confirm_email_change), which also proves it.

    An address that another account has is not held, and its owner gets a notice instead. Either way
    nothing changes on the account until a link is followed, so the person sees the same answer and
    the same account: nothing tells them whether the address is someone else's (as at sign-up).
    """
    with transaction.atomic(), transaction.atomic(using=KEYSTORE):
        owner = addresses.find_user(email)
        if owner is not None and owner.pk != user.pk:
            record(action="accounts.email_change_existing", subject_id=owner.subject_id, outcome="denied")
            send_account_mail.enqueue(user_id=str(owner.pk), kind="signup_notice", origin=origin, language=language)
            return
        if owner is not None:
            return  # already this account's address: nothing to change
        addresses.hold_pending(user, email)
        # A link mailed for an earlier address would otherwise confirm this one, which it never reached.
        tokens.cancel(user=user, purpose=TokenPurpose.CHANGE_EMAIL)
        _event("accounts.email_change_requested", user, actor=user)
        send_account_mail.enqueue(
            user_id=str(user.pk), kind=TokenPurpose.CHANGE_EMAIL, origin=origin, language=language
        )


def confirm_email_change(*, token: AccountToken) -> bool:
    """The link mailed to the new address was followed: it replaces the old one, confirmed. False if the
    link was used already, nothing is held, or another account took the address meanwhile."""
    try:
        with transaction.atomic(), transaction.atomic(using=KEYSTORE):
            if not tokens.consume(token):
                return False
            user = token.user
            pending = PendingEmail.objects.filter(user=user).first()
            email = Opener.for_subject(user.subject_id).open(pending.email) if pending and user.subject_id else None
            if pending is None or not isinstance(email, str) or addresses.find_user(email) not in (None, user):
                return False
            addresses.replace(user, email)
            pending.delete()
            user.email_confirmed_at = timezone.now()
            user.save(update_fields=["email_confirmed_at"])
            _event("accounts.email_changed", user, actor=user)
    except ValueTakenError:
        return False  # taken by another account at the same moment (the key store's unique index)
    return True


@transaction.atomic
def resend_confirmation(*, user: User, origin: str, language: str) -> None:
    send_account_mail.enqueue(user_id=str(user.pk), kind=TokenPurpose.CONFIRM_EMAIL, origin=origin, language=language)


# --- Logging in and out --------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginAttempt:
    user: User | None
    # Set when this (account, address) pair must wait before trying again.
    retry_at: datetime | None = None


def check_login(request: HttpRequest, *, identifier: str, password: str) -> LoginAttempt:
    """Check a user ID (or e-mail) and password, slowing and locking repeated failures.

    Whether the account exists changes neither the answer nor its timing: an unknown account costs
    a password verification too, is throttled the same way, and a failure answers no sooner than
    RAKSA_LOGIN_FAILURE_MS whatever the stored hash's parameters. The hash runs outside any
    transaction: on SQLite a transaction holds the one write lock, and twenty logins at once
    would queue behind each other's Argon2id.
    """
    started = time.monotonic()
    user = find_account(identifier)
    pair = throttle.pair_for(request, user=user, identifier=identifier)
    subject_id = user.subject_id if user else None
    failures = throttle.failures_of(pair)
    retry_at = throttle.blocked_until(failures)
    if retry_at is not None:
        record(action="accounts.login", subject_id=subject_id, outcome="denied")
        return LoginAttempt(user=None, retry_at=retry_at)
    if user is None:
        spend_a_verification(password)
        correct = False
    else:
        correct = user.check_password(password) and user.is_active
    if correct:
        # Most log-ins have no failures to forget: no write for them (on SQLite, the one write lock).
        if failures is not None:
            throttle.clear(pair)
        return LoginAttempt(user=user)
    with transaction.atomic():
        row = throttle.record_failure(pair)
        record(action="accounts.login", subject_id=subject_id, outcome="failed")
        if throttle.is_lockout(row):
            record(action="accounts.login_locked", subject_id=subject_id, outcome="denied")
    # Sleeping holds the thread but spends no CPU: failures cannot be used to starve the site.
    time.sleep(max(0.0, started + settings.RAKSA_LOGIN_FAILURE_MS / 1000 - time.monotonic()))
    return LoginAttempt(user=None, retry_at=row.blocked_until)


def hold_for_second_factor(request: HttpRequest, *, user: User, next_url: str) -> None:
    """The password was right and a second factor is on: remember who, for a few minutes."""
    request.session[PENDING_LOGIN] = {"user": str(user.pk), "at": int(time.time()), "next": next_url}


@transaction.atomic
def log_in(request: HttpRequest, *, user: User, second_factor: bool) -> None:
    """Start the session (under a new key) with its idle and absolute limits."""
    login(request, user, backend=BACKEND)
    session = request.session
    session.pop(PENDING_LOGIN, None)
    now = int(time.time())
    device = describe(request.headers.get("User-Agent", ""))
    session.update({STARTED: now, SEEN: now, STAFF: user.is_staff, BROWSER: device.browser, PLATFORM: device.platform})
    session[DEVICE] = device.kind
    if second_factor:
        session[MFA_VERIFIED] = now
    session.set_expiry(idle_seconds(staff=user.is_staff))
    _event("accounts.login", user, actor=user)


@transaction.atomic
def log_out(request: HttpRequest) -> None:
    """End the session on the server: its key no longer opens anything."""
    user = request.user
    if isinstance(user, User):
        _event("accounts.logout", user, actor=user)
    logout(request)


@transaction.atomic
def log_in_app(*, user: User, platform: str = "") -> tuple[str, datetime]:
    """Start a log-in of the mobile application: a bearer token (shown once) and when it expires."""
    issued = apptokens.issue(user=user, platform=platform)
    _event("accounts.app_login", user, actor=user)
    return issued


@transaction.atomic
def log_out_app(*, token: AppToken) -> None:
    """End one log-in of the mobile application: its token no longer opens anything."""
    token.delete()
    _event("accounts.app_logout", token.user, actor=token.user)


def reauthenticate_app(request: HttpRequest, *, token: AppToken, password: str) -> LoginAttempt:
    """The application gives the password again (throttled like a log-in); the token remembers when."""
    user = token.user
    attempt = check_login(request, identifier=user.username, password=password)
    if attempt.user is not None and attempt.user.pk == user.pk:
        with transaction.atomic():
            AppToken.objects.filter(pk=token.pk).update(reauthenticated_at=timezone.now())
            _event("accounts.reauthenticated", user, actor=user)
        return attempt
    return LoginAttempt(user=None, retry_at=attempt.retry_at)


@transaction.atomic
def end_app_login(*, user: User, token: AppToken) -> None:
    """One log-in of the mobile application, ended from the website's sessions page."""
    token.delete()
    _event("accounts.session_ended", user, actor=user)


@transaction.atomic
def end_session(*, user: User, session: Session) -> None:
    session.delete()
    _event("accounts.session_ended", user, actor=user)


@transaction.atomic
def end_other_sessions(request: HttpRequest, *, user: User) -> int:
    count = _end_sessions(user, keep=request.session.session_key)
    _event("accounts.sessions_ended", user, actor=user)
    return count


# --- Passwords -----------------------------------------------------------------------------------


@transaction.atomic
def request_password_reset(*, email: str, origin: str, language: str) -> None:
    user = addresses.find_user(email)
    if user is None or not user.is_active:
        record(action="accounts.password_reset_requested", outcome="failed")
        return
    _event("accounts.password_reset_requested", user, actor=None)
    send_account_mail.enqueue(user_id=str(user.pk), kind=TokenPurpose.RESET_PASSWORD, origin=origin, language=language)


def reset_password(*, token: AccountToken, password: str) -> bool:
    """Set a new password from a reset or invitation link, once; every session of the account ends."""
    return _reset_password(token=token, encoded=make_password(password))


@transaction.atomic
def _reset_password(*, token: AccountToken, encoded: str) -> bool:
    if not tokens.consume(token):
        return False
    user = token.user
    _set_password(user, encoded)
    if user.email_confirmed_at is None:
        # The link reached the address, which proves it as well as a confirmation link would.
        user.email_confirmed_at = timezone.now()
        user.save(update_fields=["email_confirmed_at"])
    _end_sessions(user)
    throttle.forget_account(user)
    _event("accounts.password_reset_completed", user, actor=None)
    return True


def change_password(request: HttpRequest, *, user: User, password: str) -> None:
    """Change the password; this session carries on (under a new key), every other one ends."""
    _change_password(request, user=user, encoded=make_password(password))


@transaction.atomic
def _change_password(request: HttpRequest, *, user: User, encoded: str) -> None:
    _set_password(user, encoded)
    update_session_auth_hash(request, user)
    _end_sessions(user, keep=request.session.session_key)
    _event("accounts.password_changed", user, actor=user)


def change_password_everywhere(*, user: User, password: str) -> None:
    """Change the password from the mobile application: every session and application log-in ends,
    the one asking included (a bearer token, unlike a session, cannot move to a new key)."""
    _change_password_everywhere(user=user, encoded=make_password(password))


@transaction.atomic
def _change_password_everywhere(*, user: User, encoded: str) -> None:
    _set_password(user, encoded)
    _end_sessions(user)
    _event("accounts.password_changed", user, actor=user)


# --- Second factor -------------------------------------------------------------------------------


@transaction.atomic
def start_totp_enrolment(*, user: User) -> TOTPDevice:
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)


def _recovery_digest(code: str) -> str:
    normalised = "".join(character for character in code.lower() if character.isalnum())
    return hashlib.sha256(normalised.encode()).hexdigest()


def _new_recovery_codes(user: User) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    codes = []
    for _number in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _character in range(10))
        code = f"{raw[:5]}-{raw[5:]}"
        codes.append(code)
        RecoveryCode.objects.create(user=user, digest=_recovery_digest(code))
    return codes


@transaction.atomic
def confirm_totp_enrolment(request: HttpRequest, *, user: User, device: TOTPDevice, code: str) -> list[str] | None:
    """Turn the second factor on once the person proves the authenticator works; the recovery codes."""
    if not device.verify_token(code.strip()):
        _event("accounts.mfa_failed", user, actor=user, outcome="failed")
        return None
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    request.session[MFA_VERIFIED] = int(time.time())
    _event("accounts.mfa_enrolled", user, actor=user)
    return _new_recovery_codes(user)


def _second_factor_matches(user: User, code: str) -> bool:
    code = code.strip()
    device = confirmed_device(user)
    if device is not None and code.isdigit() and device.verify_token(code):
        return True
    return (
        RecoveryCode.objects.filter(user=user, digest=_recovery_digest(code), used_at=None).update(
            used_at=timezone.now()
        )
        == 1
    )


@transaction.atomic
def check_second_factor(request: HttpRequest, *, user: User, code: str) -> LoginAttempt:
    """The second step of logging in, throttled with the password under the same (account, address)."""
    pair = throttle.pair_for(request, user=user, identifier="")
    failures = throttle.failures_of(pair)
    retry_at = throttle.blocked_until(failures)
    if retry_at is not None:
        _event("accounts.mfa_failed", user, actor=None, outcome="denied")
        return LoginAttempt(user=None, retry_at=retry_at)
    if _second_factor_matches(user, code):
        if failures is not None:
            throttle.clear(pair)
        return LoginAttempt(user=user)
    row = throttle.record_failure(pair)
    _event("accounts.mfa_failed", user, actor=None, outcome="failed")
    if throttle.is_lockout(row):
        _event("accounts.login_locked", user, actor=None, outcome="denied")
    return LoginAttempt(user=None, retry_at=row.blocked_until)


@transaction.atomic
def mark_second_factor_passed(request: HttpRequest, *, user: User) -> None:
    request.session[MFA_VERIFIED] = int(time.time())
    _event("accounts.mfa_verified", user, actor=user)


@transaction.atomic
def regenerate_recovery_codes(*, user: User) -> list[str]:
    codes = _new_recovery_codes(user)
    _event("accounts.recovery_codes_regenerated", user, actor=user)
    return codes


@transaction.atomic
def turn_off_second_factor(request: HttpRequest, *, user: User) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    request.session.pop(MFA_VERIFIED, None)
    _event("accounts.mfa_disabled", user, actor=user)


# --- Staff ---------------------------------------------------------------------------------------


@transaction.atomic
@transaction.atomic(using=KEYSTORE)
def create_staff_account(
    *, actor: User | None, agency: Agency, role: str, username: str, email: str, origin: str, language: str
) -> User:
    """A staff account for an agency, made by its administrator; the person sets a password from a link."""
    user = User(username=username, subject=Subject.objects.create(), is_staff=True)
    user.set_unusable_password()
    user.save()
    addresses.store(user, email)
    StaffMembership.objects.create(user=user, agency=agency, role=role)
    _event("accounts.staff_created", user, actor=actor)
    send_account_mail.enqueue(user_id=str(user.pk), kind=TokenPurpose.INVITATION, origin=origin, language=language)
    return user


@transaction.atomic
def deactivate_account(*, actor: User | None, user: User) -> None:
    """Nobody can log in to the account any more, and its open sessions end now."""
    user.is_active = False
    user.save(update_fields=["is_active"])
    _end_sessions(user)
    _event("accounts.account_deactivated", user, actor=actor)


@transaction.atomic
def reset_second_factor(*, actor: User | None, user: User) -> None:
    """For a lost authenticator: the second factor is removed and must be set up again at next log-in."""
    TOTPDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    _end_sessions(user)
    _event("accounts.mfa_reset", user, actor=actor)


# --- Re-authentication ---------------------------------------------------------------------------


def reauthenticate(request: HttpRequest, *, user: User, password: str) -> LoginAttempt:
    """The signed-in person gives their password again (throttled like a log-in); the session remembers when."""
    attempt = check_login(request, identifier=user.username, password=password)
    if attempt.user is not None and attempt.user.pk == user.pk:
        with transaction.atomic():
            mark_reauthenticated(request)
            _event("accounts.reauthenticated", user, actor=user)
        return attempt
    return LoginAttempt(user=None, retry_at=attempt.retry_at)
