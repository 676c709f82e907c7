import base64
import io
from collections.abc import Callable
from datetime import datetime

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from raksa.accounts import actions, addresses, apptokens, tokens
from raksa.accounts.devices import DEVICE_LABELS
from raksa.accounts.forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    PasswordCheckForm,
    ReauthenticateForm,
    SecondFactorForm,
    SetPasswordForm,
    SignupForm,
    StaffAccountForm,
    TotpForm,
)
from raksa.accounts.mfa import has_second_factor, passed_second_factor, pending_user, staff_mfa_required
from raksa.accounts.models import AccountToken, AppToken, Session, TokenPurpose, User
from raksa.consent.policies import current_platform_policy
from raksa.organisations.models import StaffMembership, StaffRole

# The reset token moves from the link into the session, so the page the person types the new
# password on has no token in its address (nor in a Referer header, nor in any log).
RESET_TOKEN = "_raksa_reset_token"  # noqa: S105  (a session key's name, not a secret)  # nosec B105


def _origin(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


def _next_url(request: HttpRequest, fallback: str = settings.LOGIN_REDIRECT_URL) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse(fallback)


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User), "login_required comes first"
    return request.user


def _wait_message(retry_at: datetime) -> str:
    seconds = max(1, int((retry_at - timezone.now()).total_seconds()))
    if seconds < 120:
        return ngettext(
            "Too many attempts. Try again in %(count)d second.",
            "Too many attempts. Try again in %(count)d seconds.",
            seconds,
        ) % {"count": seconds}
    minutes = (seconds + 59) // 60
    return ngettext(
        "Too many attempts. Try again in %(count)d minute.",
        "Too many attempts. Try again in %(count)d minutes.",
        minutes,
    ) % {"count": minutes}


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "accounts/csrf_failure.html", status=403)


# --- Creating an account -------------------------------------------------------------------------


@never_cache
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:account")
    policy = current_platform_policy()
    if policy is None:
        # Nobody is asked for personal data before the platform's privacy policy is published.
        return render(request, "accounts/signup_closed.html", status=503)
    form = SignupForm(request.POST or None, policy=policy)
    if request.method == "POST" and form.is_valid():
        try:
            actions.create_account(
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
                policy=policy,
                origin=_origin(request),
                language=get_language(),
            )
        except IntegrityError:
            # Someone took the user ID between the check and the save; nothing was kept.
            form.add_error("username", _("This user ID is taken."))
        else:
            return redirect("accounts:signup_done")
    return render(request, "accounts/signup.html", {"form": form, "policy": policy})


@require_http_methods(["GET"])
def signup_done(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/signup_done.html")


def _confirm_address(request: HttpRequest, token: str, purpose: str, confirm: Callable[..., bool]) -> HttpResponse:
    # Opening the link only shows a button: a mail scanner that follows links confirms nothing.
    found = tokens.valid(token, purpose=purpose)
    if found is None:
        return render(request, "accounts/link_invalid.html", status=400)
    if request.method == "POST":
        if not confirm(token=found):
            return render(request, "accounts/link_invalid.html", status=400)
        return render(request, "accounts/email_confirmed.html")
    return render(request, "accounts/confirm_email.html")


@never_cache
@require_http_methods(["GET", "POST"])
def confirm_email(request: HttpRequest, token: str) -> HttpResponse:
    return _confirm_address(request, token, TokenPurpose.CONFIRM_EMAIL, actions.confirm_email)


@never_cache
@require_http_methods(["GET", "POST"])
def confirm_email_change(request: HttpRequest, token: str) -> HttpResponse:
    """The link mailed to a new address: following it makes it the account's address."""
    return _confirm_address(request, token, TokenPurpose.CHANGE_EMAIL, actions.confirm_email_change)


@require_POST
@login_required
def resend_confirmation(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not user.email_confirmed:
        actions.resend_confirmation(user=user, origin=_origin(request), language=get_language())
    return render(request, "accounts/signup_done.html")


# --- Logging in and out --------------------------------------------------------------------------


@never_cache
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    next_url = _next_url(request)
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        attempt = actions.check_login(
            request, identifier=form.cleaned_data["identifier"], password=form.cleaned_data["password"]
        )
        if attempt.user is not None:
            if has_second_factor(attempt.user):
                actions.hold_for_second_factor(request, user=attempt.user, next_url=next_url)
                return redirect("accounts:login_second_factor")
            actions.log_in(request, user=attempt.user, second_factor=False)
            return HttpResponseRedirect(next_url)
        # The same words whether or not the account exists.
        form.add_error(None, _("The user ID (or e-mail address) and password do not match."))
        if attempt.retry_at is not None:
            form.add_error(None, _wait_message(attempt.retry_at))
    return render(request, "accounts/login.html", {"form": form, "next": next_url})


@never_cache
@require_http_methods(["GET", "POST"])
def login_second_factor(request: HttpRequest) -> HttpResponse:
    pending = pending_user(request)
    if pending is None:
        return redirect("accounts:login")
    user, next_url = pending
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        attempt = actions.check_second_factor(request, user=user, code=form.cleaned_data["code"])
        if attempt.user is not None:
            actions.log_in(request, user=user, second_factor=True)
            return HttpResponseRedirect(next_url)
        form.add_error("code", _("This code is not right, or was already used."))
        if attempt.retry_at is not None:
            form.add_error(None, _wait_message(attempt.retry_at))
    return render(request, "accounts/login_second_factor.html", {"form": form})


@never_cache
@require_http_methods(["GET", "POST"])
def logout(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        actions.log_out(request)
        return redirect("accounts:logged_out")
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    return render(request, "accounts/logout.html")


@require_http_methods(["GET"])
def logged_out(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/logged_out.html")


# --- The account ---------------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET"])
def account(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    changed = user.password_changed_at or user.date_joined
    age_days = (timezone.now() - changed).days
    return render(
        request,
        "accounts/account.html",
        {
            "email": addresses.open_for_owner(user),
            "password_age_days": age_days,
            "password_reminder": age_days >= settings.RAKSA_PASSWORD_REMINDER_DAYS,
            "second_factor": has_second_factor(user),
            "staff": StaffMembership.objects.select_related("agency").filter(user=user).first(),
        },
    )


@never_cache
@sensitive_post_parameters("password", "current_password")
@login_required
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = ChangePasswordForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        actions.change_password(request, user=user, password=form.cleaned_data["password"])
        return render(request, "accounts/password_changed.html")
    return render(request, "accounts/password_change.html", {"form": form})


@never_cache
@sensitive_post_parameters("password")
@login_required
@require_http_methods(["GET", "POST"])
def reauthenticate(request: HttpRequest) -> HttpResponse:
    """The password again, then back to the page that asked for it (erasure, closing the account, a download)."""
    next_url = _next_url(request)
    form = ReauthenticateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        attempt = actions.reauthenticate(request, user=_user(request), password=form.cleaned_data["password"])
        if attempt.user is not None:
            return HttpResponseRedirect(next_url)
        form.add_error("password", _("This is not your current password."))
        if attempt.retry_at is not None:
            form.add_error(None, _wait_message(attempt.retry_at))
    return render(request, "accounts/reauthenticate.html", {"form": form, "next": next_url})


# --- Forgotten passwords -------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def forgot_password(request: HttpRequest) -> HttpResponse:
    form = ForgotPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        actions.request_password_reset(
            email=form.cleaned_data["email"], origin=_origin(request), language=get_language()
        )
        return redirect("accounts:forgot_password_done")
    return render(request, "accounts/forgot_password.html", {"form": form})


@require_http_methods(["GET"])
def forgot_password_done(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/forgot_password_done.html", {"minutes": settings.RAKSA_RESET_LINK_MINUTES})


def _reset_token(request: HttpRequest) -> AccountToken | None:
    raw = request.session.get(RESET_TOKEN, "")
    return next(
        (
            found
            for purpose in (TokenPurpose.RESET_PASSWORD, TokenPurpose.INVITATION)
            if (found := tokens.valid(raw, purpose=purpose)) is not None
        ),
        None,
    )


@never_cache
@require_http_methods(["GET"])
def reset_link(request: HttpRequest, token: str) -> HttpResponse:
    request.session[RESET_TOKEN] = token
    if _reset_token(request) is None:
        del request.session[RESET_TOKEN]
        return render(request, "accounts/link_invalid.html", status=400)
    return redirect("accounts:reset_password")


@never_cache
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def reset_password(request: HttpRequest) -> HttpResponse:
    token = _reset_token(request)
    if token is None:
        return render(request, "accounts/link_invalid.html", status=400)
    form = SetPasswordForm(request.POST or None, user=token.user)
    if request.method == "POST" and form.is_valid():
        if not actions.reset_password(token=token, password=form.cleaned_data["password"]):
            return render(request, "accounts/link_invalid.html", status=400)
        request.session.pop(RESET_TOKEN, None)
        return render(request, "accounts/password_reset_complete.html")
    return render(request, "accounts/reset_password.html", {"form": form, "username": token.user.username})


# --- Sessions ------------------------------------------------------------------------------------


def public_session_id(session: Session) -> str:
    """Names a session on the page without its key (the key is what the cookie proves)."""
    return salted_hmac("raksa.accounts.session", session.session_key, algorithm="sha256").hexdigest()[:24]


def public_app_login_id(token: AppToken) -> str:
    """Names an application log-in on the page without its token (only the token's digest is stored)."""
    return salted_hmac("raksa.accounts.apptoken", token.digest, algorithm="sha256").hexdigest()[:24]


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def sessions(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    mine = list(Session.objects.filter(user=user, expire_date__gt=timezone.now()).order_by("-last_seen"))
    apps = list(apptokens.working(user).order_by("-last_used_at"))
    if request.method == "POST":
        if request.POST.get("end") == "others":
            actions.end_other_sessions(request, user=user)
            return redirect("accounts:sessions")
        app = next((t for t in apps if public_app_login_id(t) == request.POST.get("end")), None)
        if app is not None:
            actions.end_app_login(user=user, token=app)
            return redirect("accounts:sessions")
        chosen = next((s for s in mine if public_session_id(s) == request.POST.get("end")), None)
        if chosen is None:
            raise Http404
        if chosen.session_key == request.session.session_key:
            actions.log_out(request)
            return redirect("accounts:logged_out")
        actions.end_session(user=user, session=chosen)
        return redirect("accounts:sessions")
    rows = [
        {
            "id": public_session_id(s),
            "browser": s.browser,
            "platform": s.platform,
            "device": DEVICE_LABELS.get(s.device, DEVICE_LABELS[""]),
            "started_at": s.started_at,
            "last_seen": s.last_seen,
            "current": s.session_key == request.session.session_key,
        }
        for s in mine
    ]
    rows += [
        {
            "id": public_app_login_id(t),
            "browser": _("Mobile application"),
            "platform": t.platform,
            "device": "",
            "started_at": t.created_at,
            "last_seen": t.last_used_at,
            "current": False,
        }
        for t in apps
    ]
    return render(request, "accounts/sessions.html", {"sessions": rows})


# --- Second factor -------------------------------------------------------------------------------


def _qr_svg(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()


@never_cache
@login_required
@require_http_methods(["GET"])
def two_factor(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    return render(
        request,
        "accounts/two_factor.html",
        {
            "enabled": has_second_factor(user),
            "verified": passed_second_factor(request),
            "next": request.GET.get("next", ""),
            "verify_form": SecondFactorForm(),
            "off_form": PasswordCheckForm(user=user),
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if has_second_factor(user):
        return redirect("accounts:two_factor")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = actions.start_totp_enrolment(user=user)
    form = TotpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = actions.confirm_totp_enrolment(request, user=user, device=device, code=form.cleaned_data["code"])
        if codes is not None:
            return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": _next_url(request)})
        form.add_error("code", _("This code is not right. Check the time on your phone and try the newest code."))
    return render(
        request,
        "accounts/two_factor_setup.html",
        {"form": form, "qr": _qr_svg(device.config_url), "secret": _spaced_secret(device), "next": _next_url(request)},
    )


def _spaced_secret(device: TOTPDevice) -> str:
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@never_cache
@login_required
@require_POST
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """For a session that began before the second factor was set up elsewhere."""
    user = _user(request)
    form = SecondFactorForm(request.POST)
    if form.is_valid():
        attempt = actions.check_second_factor(request, user=user, code=form.cleaned_data["code"])
        if attempt.user is not None:
            actions.mark_second_factor_passed(request, user=user)
            return HttpResponseRedirect(_next_url(request))
        form.add_error("code", _("This code is not right, or was already used."))
    return render(
        request,
        "accounts/two_factor.html",
        {"enabled": True, "verified": False, "next": _next_url(request), "verify_form": form},
        status=400,
    )


@never_cache
@login_required
@require_POST
def recovery_codes(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not passed_second_factor(request):
        return redirect("accounts:two_factor")
    codes = actions.regenerate_recovery_codes(user=user)
    return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": reverse("accounts:two_factor")})


@never_cache
@sensitive_post_parameters("password")
@login_required
@require_POST
def two_factor_off(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if user.is_staff:
        # Staff keep their second factor; an administrator of the agency can reset a lost one.
        return redirect("accounts:two_factor")
    form = PasswordCheckForm(request.POST, user=user)
    if form.is_valid():
        actions.turn_off_second_factor(request, user=user)
        return redirect("accounts:two_factor")
    return render(
        request,
        "accounts/two_factor.html",
        {
            "enabled": True,
            "verified": passed_second_factor(request),
            "off_form": form,
            "verify_form": SecondFactorForm(),
        },
        status=400,
    )


# --- Staff accounts, managed by an administrator of their agency ----------------------------------


def _administrator(request: HttpRequest) -> StaffMembership:
    membership = StaffMembership.objects.select_related("agency").filter(user=_user(request)).first()
    if membership is None or membership.role != StaffRole.ADMINISTRATOR:
        raise Http404
    return membership


def _colleague(administrator: StaffMembership, user_id: str) -> User:
    """A staff account of the administrator's own agency; any other answers 404."""
    membership = get_object_or_404(
        StaffMembership.objects.select_related("user"), user_id=user_id, agency=administrator.agency
    )
    return membership.user


@never_cache
@staff_mfa_required
@require_http_methods(["GET", "POST"])
def staff(request: HttpRequest) -> HttpResponse:
    administrator = _administrator(request)
    form = StaffAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.create_staff_account(
                actor=_user(request),
                agency=administrator.agency,
                role=form.cleaned_data["role"],
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                origin=_origin(request),
                language=get_language(),
            )
        except IntegrityError:
            form.add_error("username", _("This user ID is taken."))
        else:
            return redirect("accounts:staff")
    members = (
        StaffMembership.objects.select_related("user").filter(agency=administrator.agency).order_by("user__username")
    )
    with_factor = set(
        TOTPDevice.objects.filter(user__staff__agency=administrator.agency, confirmed=True).values_list(
            "user_id", flat=True
        )
    )
    rows = [{"membership": m, "second_factor": m.user_id in with_factor} for m in members]
    return render(request, "accounts/staff.html", {"agency": administrator.agency, "rows": rows, "form": form})


@staff_mfa_required
@require_POST
def staff_deactivate(request: HttpRequest, user_id: str) -> HttpResponse:
    colleague = _colleague(_administrator(request), user_id)
    if colleague.pk != request.user.pk:
        actions.deactivate_account(actor=_user(request), user=colleague)
    return redirect("accounts:staff")


@staff_mfa_required
@require_POST
def staff_reset_second_factor(request: HttpRequest, user_id: str) -> HttpResponse:
    colleague = _colleague(_administrator(request), user_id)
    if colleague.pk != request.user.pk:
        actions.reset_second_factor(actor=_user(request), user=colleague)
    return redirect("accounts:staff")
