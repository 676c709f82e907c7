"""The second factor: who has one, whether this session passed it, and the guard for staff views.

`staff_mfa_required` (a view decorator) and `require_staff_second_factor` (for code that is not a
view, such as the staff gateway) are the one place that decides whether staff may see personal data.
"""

import time
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from raksa.accounts.models import User

# Session keys: when this session passed the second factor, and a log-in waiting for it.
MFA_VERIFIED = "_raksa_mfa_verified"
PENDING_LOGIN = "_raksa_pending_login"
PENDING_LOGIN_SECONDS = 300


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def has_second_factor(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def passed_second_factor(request: HttpRequest) -> bool:
    """This session's user is signed in, proved a second factor in it, and still has that factor."""
    user = request.user
    if not isinstance(user, User) or MFA_VERIFIED not in request.session:
        return False
    return has_second_factor(user)


def pending_user(request: HttpRequest) -> tuple[User, str] | None:
    """The account whose password was right and whose second factor is awaited, and where to go next."""
    pending = request.session.get(PENDING_LOGIN)
    if not pending or time.time() - pending["at"] > PENDING_LOGIN_SECONDS:
        return None
    user = User.objects.filter(pk=pending["user"], is_active=True).first()
    return (user, pending["next"]) if user else None


def require_staff_second_factor(request: HttpRequest) -> User:
    """The signed-in staff user, who passed the second factor in this session; PermissionDenied otherwise."""
    user = request.user
    if not isinstance(user, User) or not user.is_active or not user.is_staff or not passed_second_factor(request):
        raise PermissionDenied
    return user


def staff_mfa_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Only staff who passed the second factor in this session reach the view.

    Anonymous visitors are sent to log in; staff without a second factor, to set one up; others get 403.
    """

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not isinstance(user, User) or not user.is_staff:
            raise PermissionDenied
        if not passed_second_factor(request):
            return redirect(f"{reverse('accounts:two_factor')}?{urlencode({'next': request.get_full_path()})}")
        return view(request, *args, **kwargs)

    return guarded
