"""Who is asking: the mobile application by its bearer token, the site's own scripts by their session.

A token is opaque (32 random bytes); only its SHA-256 is stored (raksa.accounts.apptokens), and it
ends at its expiry, at log-out, and wherever the account's sessions end. A session request that
changes something must carry the CSRF token, exactly as a form on the site.
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from raksa.accounts import apptokens
from raksa.accounts.models import AppToken, User
from raksa.accounts.reauth import recently_authenticated
from raksa.api.problems import Problem

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class AppTokenAuth(HttpBearer):
    def __call__(self, request: HttpRequest) -> User | None:
        # Ninja's own reading logs an unexpected header in DEBUG: it could be someone's password.
        scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        return self.authenticate(request, token)

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        found = apptokens.valid(token.strip())
        if found is None:
            return None
        # Actions take the account as their actor, as on the website.
        request.user = found.user
        request.app_token = found  # type: ignore[attr-defined]
        return found.user


class SiteSessionAuth(APIKeyCookie):
    """The site's own scripts, logged in on the website (documented as the session cookie)."""

    param_name = settings.SESSION_COOKIE_NAME

    def __call__(self, request: HttpRequest) -> Any:
        user = request.user
        if not user.is_authenticated or "Authorization" in request.headers:
            return None
        if request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise Problem("forbidden", _("Reload the page and try again (the CSRF check failed)."))
        return user

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return None  # unused: __call__ reads the session Django already loaded


PERSON = [AppTokenAuth(), SiteSessionAuth()]


def account(request: HttpRequest) -> User:
    """The account the request authenticated as (only inside an operation with auth=PERSON)."""
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user


def app_token(request: HttpRequest) -> AppToken | None:
    """The bearer token of this request, or None for a session."""
    return getattr(request, "app_token", None)


def require_recent_password(request: HttpRequest) -> None:
    """As on the website, acts that cannot be undone, or that hand over everything held about the
    person, need the password given within RAKSA_REAUTH_MINUTES: for the application, at the token's
    log-in or at POST /auth/reauthenticate that recently; for the site's scripts, a session that logged
    in or re-entered it that recently."""
    token = app_token(request)
    if token is not None:
        proven = apptokens.password_given_at(token)
        recent = timezone.now() - proven <= timedelta(minutes=settings.RAKSA_REAUTH_MINUTES)
    else:
        recent = recently_authenticated(request)
    if not recent:
        raise Problem(
            "reauthentication-required",
            _("Give your password again (POST /api/v1/auth/reauthenticate), then send this request again."),
        )
