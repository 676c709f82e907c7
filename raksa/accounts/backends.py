from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from raksa.accounts.actions import check_login
from raksa.accounts.models import User


class AccountBackend(ModelBackend):
    """Django's authenticate() (the admin's log-in too) goes through Raksa's throttled check.

    The site's own log-in calls `actions.check_login` directly, to tell a locked pair when to
    retry and to ask for the second factor.
    """

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        if request is None or username is None or password is None:
            return None
        return check_login(request, identifier=username, password=password).user
