"""Re-authentication ("sudo mode", AS5) for the dashboard's sensitive actions.

allauth asks again before two-factor changes by itself (its adapter consults
`recently_authenticated` below); API key views use these helpers so that their own no-JS forms
can come back with what was typed.
"""

import time

from allauth.account.adapter import get_adapter
from allauth.account.internal.flows.login import get_authentication_records
from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest
from django.utils.http import urlencode


def recently_authenticated(request: HttpRequest) -> bool:
    """Whether this session signed in or re-authenticated within ACCOUNT_REAUTHENTICATION_TIMEOUT.

    allauth itself counts only explicit re-authentications; AS5 asks again only when the *last
    authentication* of any kind (the sign-in included) is older than the timeout.
    """
    records = get_authentication_records(request, request.user)
    if not records:
        return False
    return time.time() - records[-1]["at"] < settings.ACCOUNT_REAUTHENTICATION_TIMEOUT


def reauthentication_url(request: HttpRequest, *, next_url: str) -> str:
    """Where to ask this user to confirm it is them (password, or a second factor), returning to
    `next_url` afterwards."""
    method = get_adapter(request).get_reauthentication_methods(request.user)[0]
    return f"{method['url']}?{urlencode({REDIRECT_FIELD_NAME: next_url})}"
