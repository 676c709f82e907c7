"""Creating an account, logging in and out, passwords, and the account itself: the web's own forms and actions."""

from datetime import datetime

from django import forms
from django.conf import settings
from django.db import IntegrityError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables
from ninja import Router, Status
from ninja.throttling import BaseThrottle

from raksa.accounts import actions, addresses, tokens
from raksa.accounts.devices import describe
from raksa.accounts.forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    ReauthenticateForm,
    SetPasswordForm,
    SignupForm,
)
from raksa.accounts.mfa import has_second_factor
from raksa.accounts.models import TokenPurpose, User
from raksa.api import problems, throttling
from raksa.api.auth import PERSON, account, app_token
from raksa.api.problems import Problem
from raksa.api.schemas import (
    ChangeIn,
    ForgotIn,
    LoginIn,
    MeOut,
    MePatch,
    Message,
    ReauthenticateIn,
    RegisterIn,
    ResetIn,
    TokenOut,
)
from raksa.consent.models import Channel
from raksa.consent.policies import current_platform_policy

router = Router(tags=["accounts"])
ACCOUNT_ENDPOINT: list[BaseThrottle] = [throttling.EVERY_REQUEST, throttling.ACCOUNT_ENDPOINTS]


def _origin(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


def _language() -> str:
    return get_language() or "th"


def _check_your_email() -> Message:
    return Message(detail=_("Check your e-mail: we sent you a message to finish creating your account."))


@router.post("/auth/register", response={202: Message}, throttle=ACCOUNT_ENDPOINT, summary="Create an account")
@sensitive_variables("payload")
def register(request: HttpRequest, payload: RegisterIn) -> Status:
    policy = current_platform_policy()
    if policy is None:
        raise Problem("unavailable", _("Creating an account opens once the privacy policy is published."))
    if payload.accepted_policy_version != policy.number:
        raise problems.invalid(
            {
                "accepted_policy_version": [
                    _("The privacy policy has just been updated. Please read the new version and accept it again.")
                ]
            }
        )
    form = SignupForm(
        {
            "username": payload.username,
            "email": payload.email,
            "password": payload.password,
            "accept_policy": "on",
            "policy": str(policy.pk),
        },
        policy=policy,
    )
    if not form.is_valid():
        raise problems.from_form(form)
    try:
        actions.create_account(
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password"],
            policy=policy,
            origin=_origin(request),
            language=_language(),
            channel=Channel.APP,
        )
    except IntegrityError:
        raise problems.invalid({"username": [_("This user ID is taken.")]}) from None
    return Status(202, _check_your_email())


def _too_many(retry_at: datetime) -> Problem:
    seconds = max(1, int((retry_at - timezone.now()).total_seconds() + 0.999))
    return Problem(
        "too-many-requests",
        _("Too many attempts. Try again in %(count)d seconds.") % {"count": seconds},
        headers={"Retry-After": str(seconds)},
    )


@router.post("/auth/login", response={200: TokenOut}, throttle=ACCOUNT_ENDPOINT, summary="Log in: a bearer token")
@sensitive_variables("payload")
def login(request: HttpRequest, payload: LoginIn) -> TokenOut:
    attempt = actions.check_login(request, identifier=payload.username, password=payload.password)
    user = attempt.user
    if user is not None and has_second_factor(user):
        if not payload.code:
            raise problems.invalid({"code": [_("Enter the code from your authenticator app.")]})
        attempt = actions.check_second_factor(request, user=user, code=payload.code)
        if attempt.user is None and attempt.retry_at is None:
            raise problems.invalid({"code": [_("This code is not right, or was already used.")]})
    if attempt.user is None:
        if attempt.retry_at is not None:
            raise _too_many(attempt.retry_at)
        # The same words whether or not the account exists.
        raise Problem(
            "unauthenticated",
            _("The user ID (or e-mail address) and password do not match."),
            headers={"WWW-Authenticate": "Bearer"},
        )
    platform = describe(request.headers.get("User-Agent", "")).platform
    token, expires_at = actions.log_in_app(user=attempt.user, platform=platform)
    return TokenOut(token=token, expires_at=expires_at)


@router.post("/auth/logout", response={204: None}, auth=PERSON, summary="Log out: the token stops working")
def logout(request: HttpRequest) -> Status:
    token = app_token(request)
    if token is not None:
        actions.log_out_app(token=token)
    else:
        actions.log_out(request)
    return Status(204, None)


@router.post(
    "/auth/reauthenticate",
    response={204: None},
    auth=PERSON,
    throttle=ACCOUNT_ENDPOINT,
    summary="Give the password again",
    description="Before an act that needs a recent password (filing a request, closing the account, "
    "starting a data export, all my data at once), as the website asks for it again: for "
    "RAKSA_REAUTH_MINUTES afterwards this token (or session) counts as recently authenticated. "
    "Throttled and locked as a log-in is.",
)
@sensitive_variables("payload")
def reauthenticate(request: HttpRequest, payload: ReauthenticateIn) -> Status:
    user = account(request)
    form = ReauthenticateForm({"password": payload.password})
    if not form.is_valid():
        raise problems.from_form(form)
    token = app_token(request)
    if token is not None:
        attempt = actions.reauthenticate_app(request, token=token, password=form.cleaned_data["password"])
    else:
        attempt = actions.reauthenticate(request, user=user, password=form.cleaned_data["password"])
    if attempt.user is None:
        if attempt.retry_at is not None:
            raise _too_many(attempt.retry_at)
        raise problems.invalid({"password": [_("This is not your current password.")]})
    return Status(204, None)


@router.post("/auth/password/forgot", response={202: Message}, throttle=ACCOUNT_ENDPOINT, summary="Mail a reset link")
def forgot_password(request: HttpRequest, payload: ForgotIn) -> Status:
    form = ForgotPasswordForm({"email": payload.email})
    if not form.is_valid():
        raise problems.from_form(form)
    actions.request_password_reset(email=form.cleaned_data["email"], origin=_origin(request), language=_language())
    minutes = settings.RAKSA_RESET_LINK_MINUTES
    return Status(
        202,
        Message(
            detail=_("If an account has this address, we sent it a link. It works for %(minutes)d minutes.")
            % {"minutes": minutes}
        ),
    )


@router.post("/auth/password/reset", response={204: None}, throttle=ACCOUNT_ENDPOINT, summary="Set a new password")
@sensitive_variables("payload")
def reset_password(request: HttpRequest, payload: ResetIn) -> Status:
    token = tokens.valid(payload.token.strip(), purpose=TokenPurpose.RESET_PASSWORD)
    invalid_token = problems.invalid({"token": [_("This link has expired or was already used. Ask for a new one.")]})
    if token is None:
        raise invalid_token
    form = SetPasswordForm({"password": payload.password}, user=token.user)
    if not form.is_valid():
        raise problems.from_form(form)
    if not actions.reset_password(token=token, password=form.cleaned_data["password"]):
        raise invalid_token
    return Status(204, None)


@router.post(
    "/auth/password/change",
    response={204: None},
    auth=PERSON,
    throttle=ACCOUNT_ENDPOINT,
    summary="Change the password",
    description="From the application every log-in ends, this token included: log in again with the new password.",
)
@sensitive_variables("payload")
def change_password(request: HttpRequest, payload: ChangeIn) -> Status:
    user = account(request)
    form = ChangePasswordForm({"current_password": payload.current_password, "password": payload.password}, user=user)
    if not form.is_valid():
        raise problems.from_form(form)
    if app_token(request) is not None:
        actions.change_password_everywhere(user=user, password=form.cleaned_data["password"])
    else:
        # The website's own scripts: as the web page does, this session carries on under a new key.
        actions.change_password(request, user=user, password=form.cleaned_data["password"])
    return Status(204, None)


def _me(user: User) -> MeOut:
    return MeOut(
        username=user.username,
        email=addresses.open_for_owner(user),
        email_confirmed=user.email_confirmed,
        date_joined=user.date_joined,
        password_changed_at=user.password_changed_at,
        second_factor=has_second_factor(user),
    )


@router.get("/me", response=MeOut, auth=PERSON, summary="My account")
def me(request: HttpRequest) -> MeOut:
    return _me(account(request))


@router.patch(
    "/me",
    response=MeOut,
    auth=PERSON,
    summary="Correct my account (rectification)",
    description="The e-mail address can be corrected: a link is mailed to the new address, and the account "
    "keeps its current address until the link is followed (the new one is then confirmed). The answer is "
    "the account as it stands, the same whether or not another account has that address. The user ID "
    "cannot change, as on the website.",
)
def correct_me(request: HttpRequest, payload: MePatch) -> MeOut:
    user = account(request)
    if payload.email is not None:
        try:
            email = forms.EmailField(max_length=254).clean(payload.email)
        except forms.ValidationError as error:
            raise problems.invalid({"email": error.messages}) from None
        actions.change_email(user=user, email=email, origin=_origin(request), language=_language())
    return _me(user)
