"""A recent proof of the password, asked again before acts that cannot be undone (erasure, closing the
account, downloading everything held about the person).

`recent_login_required` guards such a view: a session that logged in or re-entered its password
within `RAKSA_REAUTH_MINUTES` goes through; any other is sent to enter the password again and back.
"""

import time
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from raksa.accounts.sessions import STARTED

# Session key: when this session last proved the password again.
REAUTHENTICATED = "_raksa_reauthenticated"


def recently_authenticated(request: HttpRequest) -> bool:
    """The password was given in this session (at log-in or again) within RAKSA_REAUTH_MINUTES."""
    if not request.user.is_authenticated:
        return False
    proven = max(float(request.session.get(STARTED, 0)), float(request.session.get(REAUTHENTICATED, 0)))
    return time.time() - proven <= settings.RAKSA_REAUTH_MINUTES * 60


def mark_reauthenticated(request: HttpRequest) -> None:
    request.session[REAUTHENTICATED] = int(time.time())


def recent_login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Put after login_required: a session without a recent password goes to give it, then comes back."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not recently_authenticated(request):
            # A form's POST cannot be replayed: come back to the page (GET) that shows it.
            back = request.get_full_path() if request.method == "GET" else request.headers.get("Referer", "")
            query = urlencode({"next": back}) if back else ""
            return redirect(f"{reverse('accounts:reauthenticate')}?{query}")
        return view(request, *args, **kwargs)

    return guarded
