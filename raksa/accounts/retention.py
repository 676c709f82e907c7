"""The retention of what accounts hold: e-mail links, log-in failure counts, sessions, and accounts
never confirmed or no longer used (whose holders are warned by e-mail first).

A closed account keeps its row, emptied like a rights erasure (raksa/rights/finders.py): other
records point to it. Its address, sessions, links and second factor are deleted, and the person's
ACCOUNT keys are destroyed once they seal nothing else.
"""

import datetime
import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import CharField, F, Q, QuerySet, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.template.loader import render_to_string
from django.utils import translation
from django_otp.plugins.otp_totp.models import TOTPDevice

from raksa.accounts import addresses, throttle
from raksa.accounts.models import (
    AccountEmail,
    AccountToken,
    AppToken,
    LoginThrottle,
    PasswordHistory,
    PendingEmail,
    RecoveryCode,
    Session,
    TokenPurpose,
    User,
)
from raksa.accounts.tokens import lifetime
from raksa.registry import ACCOUNT
from raksa.retention.rules import Ending, Period, Rule, register
from raksa.vault.actions import drop_indexes

log = logging.getLogger(__name__)

_LINK_STARTS = ("ส่งลิงก์", "the link is sent")
_APP_STARTS = ("เข้าสู่ระบบในแอปพลิเคชัน", "the log-in in the application")
_SESSION_STARTS = ("การใช้งานครั้งล่าสุดในเซสชัน", "the last request of the session")
_FAILURE_STARTS = ("การเข้าสู่ระบบที่ผิดพลาดครั้งล่าสุด", "the last failed log-in")
_SIGNUP_STARTS = ("สมัครบัญชีผู้ใช้โดยไม่ยืนยันอีเมล", "sign-up, when the e-mail address was never confirmed")
_LAST_USE_STARTS = ("การเข้าสู่ระบบครั้งล่าสุด", "the last log-in")


def _period(length: datetime.timedelta, starts: tuple[str, str], source: str, *, at_most: bool = False) -> Period:
    return Period(length=length, starts_when_th=starts[0], starts_when_en=starts[1], source=source, at_most=at_most)


# E-mail links ----------------------------------------------------------------------------------------
def _links_period() -> Period:
    longest = max(lifetime(purpose) for purpose in TokenPurpose.values)
    return _period(
        longest,
        _LINK_STARTS,
        "RAKSA_RESET_LINK_MINUTES, RAKSA_CONFIRM_LINK_HOURS, RAKSA_INVITATION_LINK_HOURS",
        at_most=True,
    )


register(
    Rule(
        code="accounts.accounttoken",
        model="accounts.AccountToken",
        label_th="ลิงก์ยืนยันอีเมลและลิงก์ตั้งรหัสผ่านใหม่",
        label_en="e-mail confirmation and password reset links",
        period=_links_period,
        due=lambda now: AccountToken.objects.filter(Q(expires_at__lte=now) | Q(used_at__isnull=False)),
        subject="user__subject_id",
        time="created_at",
    )
)


# A new address waiting for its link: of no use once the link can no longer be followed.
register(
    Rule(
        code="accounts.pendingemail",
        model="accounts.PendingEmail",
        label_th="อีเมลใหม่ที่รอการยืนยัน",
        label_en="new e-mail addresses waiting for confirmation",
        period=lambda: _period(lifetime(TokenPurpose.CHANGE_EMAIL), _LINK_STARTS, "RAKSA_CONFIRM_LINK_HOURS"),
        due=lambda now: PendingEmail.objects.filter(created_at__lte=now - lifetime(TokenPurpose.CHANGE_EMAIL)),
        subject="subject_id",
        time="created_at",
    )
)


# The mobile application's log-ins -------------------------------------------------------------------
register(
    Rule(
        code="accounts.apptoken",
        model="accounts.AppToken",
        label_th="การเข้าสู่ระบบของแอปพลิเคชันที่หมดอายุ",
        label_en="expired application log-ins",
        period=lambda: _period(
            datetime.timedelta(hours=settings.RAKSA_APP_TOKEN_HOURS), _APP_STARTS, "RAKSA_APP_TOKEN_HOURS"
        ),
        # Expired, or idle too long: either way it no longer opens anything.
        due=lambda now: AppToken.objects.filter(
            Q(expires_at__lte=now)
            | Q(last_used_at__lte=now - datetime.timedelta(hours=settings.RAKSA_APP_TOKEN_IDLE_HOURS))
        ),
        subject="user__subject_id",
        time="created_at",
    )
)


# Log-in failure counts ------------------------------------------------------------------------------
register(
    Rule(
        code="accounts.loginthrottle",
        model="accounts.LoginThrottle",
        label_th="จำนวนครั้งที่เข้าสู่ระบบไม่สำเร็จ",
        label_en="failed log-in counts",
        period=lambda: _period(throttle.FORGET_AFTER, _FAILURE_STARTS, "raksa.accounts.throttle.FORGET_AFTER"),
        due=lambda now: LoginThrottle.objects.filter(last_failure_at__lte=now - throttle.FORGET_AFTER).filter(
            Q(blocked_until__isnull=True) | Q(blocked_until__lte=now)
        ),
        time="last_failure_at",
    )
)


# Sessions -------------------------------------------------------------------------------------------
register(
    Rule(
        code="accounts.session",
        model="accounts.Session",
        label_th="เซสชันที่หมดอายุ",
        label_en="expired sessions",
        period=lambda: _period(
            datetime.timedelta(minutes=settings.RAKSA_SESSION_IDLE_MINUTES),
            _SESSION_STARTS,
            "RAKSA_SESSION_IDLE_MINUTES",
        ),
        due=lambda now: Session.objects.filter(expire_date__lte=now),
        subject="user__subject_id",
        time="started_at",
    )
)


# Accounts -------------------------------------------------------------------------------------------
def _citizens() -> QuerySet:
    """Open citizens' accounts (staff accounts end by their administrator; closed ones have no subject)."""
    return User.objects.filter(is_staff=False, subject__isnull=False)


def _close(rows: QuerySet, now: datetime.datetime) -> int:
    users = list(rows.values_list("pk", flat=True))
    emails = list(AccountEmail.objects.filter(user_id__in=users).values_list("pk", flat=True))
    drop_indexes(model=AccountEmail, object_ids=emails)
    AccountEmail.objects.filter(pk__in=emails).delete()
    for model in (Session, AccountToken, AppToken, PasswordHistory, PendingEmail, RecoveryCode, TOTPDevice):
        model._default_manager.filter(user_id__in=users).delete()
    return rows.update(
        username=Concat(Value("closed-"), Cast("pk", CharField())),
        password="!",  # noqa: S106  (an unusable password: nobody can log in)  # nosec B106
        is_active=False,
        subject=None,
    )


def _inactive_after() -> datetime.timedelta:
    return datetime.timedelta(days=settings.RAKSA_INACTIVE_ACCOUNT_DAYS)


def _warning_ahead() -> datetime.timedelta:
    return datetime.timedelta(days=settings.RAKSA_INACTIVE_WARNING_DAYS)


def _with_last_use() -> QuerySet:
    return _citizens().filter(email_confirmed_at__isnull=False).annotate(last_use=Coalesce("last_login", "date_joined"))


def _to_warn(now: datetime.datetime) -> QuerySet:
    """Unused accounts whose holder has not been warned since they last logged in."""
    return (
        _with_last_use()
        .filter(last_use__lte=now - (_inactive_after() - _warning_ahead()))
        .filter(Q(inactivity_warned_at__isnull=True) | Q(inactivity_warned_at__lt=F("last_use")))
    )


def _inactive_due(now: datetime.datetime) -> QuerySet:
    """Unused for the whole period, and warned at least the warning's days ago (and not used since)."""
    return _with_last_use().filter(
        last_use__lte=now - _inactive_after(),
        inactivity_warned_at__gte=F("last_use"),
        inactivity_warned_at__lte=now - _warning_ahead(),
    )


def _warn(now: datetime.datetime) -> int:
    """Writes to each holder to be warned (both languages), marking each once the mail is accepted."""
    warned = 0
    closes_on = now + _warning_ahead()
    for user in _to_warn(now).order_by("pk").iterator():
        recipient = addresses.open_for_mailer(user)
        if recipient is None:
            continue
        parts = []
        for language in ("th", "en"):
            with translation.override(language):
                context = {
                    "username": user.username,
                    "closes_on": closes_on.date(),
                    "days": settings.RAKSA_INACTIVE_ACCOUNT_DAYS,
                }
                parts.append(
                    (
                        render_to_string("accounts/mail/inactive_warning_subject.txt", context).strip(),
                        render_to_string("accounts/mail/inactive_warning.txt", context),
                    )
                )
        subject = " / ".join(subject for subject, _body in parts)
        body = "\n\n-----\n\n".join(body for _subject, body in parts)
        try:
            EmailMessage(subject=subject, body=body, to=[recipient]).send()
        except (smtplib.SMTPException, OSError) as error:
            # Not marked warned, so not closed: the next run tries again; the other rules still run.
            log.warning("inactive-account warning to account %s not sent: %s", user.pk, type(error).__name__)
            continue
        User.objects.filter(pk=user.pk).update(inactivity_warned_at=now)
        warned += 1
    return warned


register(
    Rule(
        code="accounts.inactive",
        model="accounts.User",
        label_th="บัญชีผู้ใช้ที่ไม่ได้ใช้งาน",
        label_en="accounts no longer used",
        period=lambda: _period(_inactive_after(), _LAST_USE_STARTS, "RAKSA_INACTIVE_ACCOUNT_DAYS"),
        due=_inactive_due,
        retention=ACCOUNT,
        ending=Ending.ANONYMISE,
        end=_close,
        subject="subject_id",
        time="date_joined",
        shred=True,
        warn=_warn,
        warn_due=_to_warn,
    )
)


def _unconfirmed_days() -> datetime.timedelta:
    return datetime.timedelta(days=settings.RAKSA_UNCONFIRMED_ACCOUNT_DAYS)


register(
    Rule(
        code="accounts.unconfirmed",
        model="accounts.User",
        label_th="บัญชีผู้ใช้ที่ไม่เคยยืนยันอีเมล",
        label_en="accounts whose e-mail address was never confirmed",
        period=lambda: _period(_unconfirmed_days(), _SIGNUP_STARTS, "RAKSA_UNCONFIRMED_ACCOUNT_DAYS"),
        due=lambda now: _citizens().filter(email_confirmed_at__isnull=True, date_joined__lte=now - _unconfirmed_days()),
        retention=ACCOUNT,
        ending=Ending.ANONYMISE,
        end=_close,
        subject="subject_id",
        time="date_joined",
        shred=True,
    )
)
